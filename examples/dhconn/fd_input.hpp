// An input stream buffer over a file descriptor, for `dhconn import`.
#pragma once

#include <botan/secmem.h>

#include <streambuf>
#include <vector>

namespace dhconn {

// Reads with read(2) into a buffer that is wiped when freed: a hand-written line may hold a
// password in clear. A read error throws std::ios_base::failure, as std::filebuf does; the
// library turns it into Error(internal) before anything is written. std::cin cannot say it:
// its buffer is the C library's, never freed, and a read error there looks like the end.
class FdInputBuffer : public std::streambuf {
 public:
  explicit FdInputBuffer(int fd);  // does not take ownership of `fd`

 protected:
  int_type underflow() override;

 private:
  int fd_;
  std::vector<char, Botan::secure_allocator<char>> buffer_;
};

}  // namespace dhconn
