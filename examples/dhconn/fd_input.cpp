#include "fd_input.hpp"

#include <unistd.h>

#include <cerrno>
#include <ios>

namespace dhconn {

FdInputBuffer::FdInputBuffer(int fd) : fd_(fd), buffer_(std::size_t{64} << 10) {
  setg(buffer_.data(), buffer_.data(), buffer_.data());
}

FdInputBuffer::int_type FdInputBuffer::underflow() {
  if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
  ssize_t n;
  do {
    n = ::read(fd_, buffer_.data(), buffer_.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw std::ios_base::failure("read error");  // no errno text: the caller words it
  if (n == 0) return traits_type::eof();
  setg(buffer_.data(), buffer_.data(), buffer_.data() + n);
  return traits_type::to_int_type(*gptr());
}

}  // namespace dhconn
