// A RapidJSON document whose DOM and parse stack start in buffers inside this object, so
// parsing a small value (an envelope, a record's details) allocates nothing; more input
// spills to the heap. Meant to live on the caller's stack, one parse at a time.
#pragma once

#include <rapidjson/document.h>

namespace datahub::model {

class StackJsonDocument {
 public:
  using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                                              rapidjson::MemoryPoolAllocator<>>;

  StackJsonDocument() = default;
  StackJsonDocument(const StackJsonDocument&) = delete;
  StackJsonDocument& operator=(const StackJsonDocument&) = delete;

  Document& doc() noexcept { return doc_; }

 private:
  // Members in this order: the buffers outlive the pools, the pools outlive the document.
  char values_buffer_[2048];
  char stack_buffer_[2048];
  rapidjson::MemoryPoolAllocator<> values_{values_buffer_, sizeof values_buffer_};
  rapidjson::MemoryPoolAllocator<> stack_{stack_buffer_, sizeof stack_buffer_};
  // Each pool keeps a small header in its buffer, hence the parse stack's smaller start.
  Document doc_{&values_, 1024, &stack_};
};

}  // namespace datahub::model
