// Details: the fields of a connection (host, port, password, ...), the part that is encrypted.
//
// An ordered set of named values, each a string or an integer. Which fields a connection
// type accepts, requires and treats as secret is declared by its ConnectionType
// (connection_type.hpp); Details itself only holds values. A Details object wipes its
// strings when destroyed, because it may hold a password.
#pragma once

#include <datahub/export.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace datahub {

class DATAHUB_API Details {
 public:
  using Value = std::variant<std::string, std::int64_t>;
  using Field = std::pair<std::string, Value>;

  Details() = default;
  Details(const Details&) = default;
  Details(Details&&) noexcept = default;
  Details& operator=(const Details&);
  Details& operator=(Details&&) noexcept;
  ~Details();

  // Parses a flat JSON object of strings and integers, e.g. {"host":"db","port":5432}.
  // Throws InvalidArgument whose field() is
  //   "connection_details" for malformed JSON (invalid UTF-8 and raw NUL bytes included)
  //     or a value that is not an object;
  //   "connection_details key" for a key that is empty, over 64 characters or holds NUL;
  //   "connection_details.<key>" for a member that is nested, a float, an integer out of
  //     int64's range, a boolean or null, a string holding NUL, or a key given twice.
  static Details from_json(std::string_view json);

  // Sets a field, replacing any earlier value; keeps first-insertion order.
  Details& set(std::string_view name, std::string value);
  Details& set(std::string_view name, std::int64_t value);
  // Any other integer type (int, long long, unsigned, std::size_t, ...); a value above
  // int64's range throws InvalidArgument("connection_details.<name>").
  template <typename Integer,
            std::enable_if_t<std::is_integral_v<Integer> && !std::is_same_v<Integer, bool>, int> = 0>
  Details& set(std::string_view name, Integer value) {
    if constexpr (std::is_unsigned_v<Integer> && sizeof(Integer) >= sizeof(std::int64_t)) {
      if (value > static_cast<Integer>(std::numeric_limits<std::int64_t>::max())) throw_out_of_range(name);
    }
    return set(name, static_cast<std::int64_t>(value));
  }
  Details& set(std::string_view name, const char* value) { return set(name, std::string(value)); }

  // Removes a field; returns whether it was there.
  bool erase(std::string_view name);

  // The value of a field, or nullptr when it is not set.
  const Value* find(std::string_view name) const noexcept;
  // Typed access; nullptr when absent or of the other type.
  const std::string* find_string(std::string_view name) const noexcept;
  const std::int64_t* find_integer(std::string_view name) const noexcept;

  bool empty() const noexcept { return fields_.empty(); }
  std::size_t size() const noexcept { return fields_.size(); }
  const std::vector<Field>& fields() const noexcept { return fields_; }
  auto begin() const noexcept { return fields_.begin(); }
  auto end() const noexcept { return fields_.end(); }

  friend bool operator==(const Details& a, const Details& b) { return a.fields_ == b.fields_; }
  friend bool operator!=(const Details& a, const Details& b) { return !(a == b); }

 private:
  [[noreturn]] static void throw_out_of_range(std::string_view name);
  void wipe() noexcept;
  void move_fields(std::size_t capacity, const Field* skip);
  void make_room();
  std::vector<Field> fields_;
};

}  // namespace datahub
