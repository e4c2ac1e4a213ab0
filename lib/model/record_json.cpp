// to_json(Connection): the record shape of the C ABI and the CLI.
#include "model/record_json.hpp"

#include "model/details_json.hpp"

#include <rapidjson/writer.h>

namespace datahub {

SecretBytes to_json(const Connection& c) {
  SecretBytes out;
  out.reserve(512);
  model::SecretSink sink{out};
  rapidjson::Writer<model::SecretSink> w(sink);
  w.StartObject();
  model::write_columns(w, c);
  w.Key("redacted");
  model::write_texts(w, c.redacted);
  w.Key("key_id");
  model::write_text(w, c.key_id);
  w.Key("alg");
  model::write_text(w, c.alg);
  w.Key("stale");
  w.Bool(c.stale);
  if (c.error) {
    w.Key("error");
    w.StartObject();
    w.Key("code");
    w.Int(static_cast<int>(c.error->code));
    w.Key("message");
    model::write_text(w, c.error->message);
    w.EndObject();
  }
  w.EndObject();
  return out;
}

}  // namespace datahub
