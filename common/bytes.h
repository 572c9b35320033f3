// Byte buffers and a bounds-checked little-endian reader for untrusted binary formats.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cvm {

using Bytes = std::vector<uint8_t>;
using ByteSpan = std::span<const uint8_t>;

inline ByteSpan AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsChars(ByteSpan b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Bytes ToBytes(ByteSpan b) { return Bytes(b.begin(), b.end()); }
bool IsAllZero(ByteSpan b);
// Constant-time equality for secrets and MACs (lengths are not secret).
bool ConstantTimeEqual(ByteSpan a, ByteSpan b);

// Fixed-offset little-endian loads. REQUIRES: offset + width <= b.size() (checked by assert and
// by callers that validated the total size first; use ByteReader for variable layouts).
uint16_t LoadLe16(ByteSpan b, size_t offset);
uint32_t LoadLe32(ByteSpan b, size_t offset);
uint64_t LoadLe64(ByteSpan b, size_t offset);
void StoreLe16(std::span<uint8_t> b, size_t offset, uint16_t v);
void StoreLe32(std::span<uint8_t> b, size_t offset, uint32_t v);
void StoreLe64(std::span<uint8_t> b, size_t offset, uint64_t v);
// Big-endian loads, for TPM structures.
uint16_t LoadBe16(ByteSpan b, size_t offset);
uint32_t LoadBe32(ByteSpan b, size_t offset);
uint64_t LoadBe64(ByteSpan b, size_t offset);

// Reads fields in order from a buffer it does not own (the buffer must outlive the reader).
// Every read is bounds-checked; on a short buffer it returns kInvalidInput naming `what`, the
// structure's name and the offset, e.g. "event log: truncated at offset 52: need 4 bytes for
// event size, 2 left". The reader does not advance on a failed read.
class ByteReader {
 public:
  enum class Endian { kLittle, kBig };

  explicit ByteReader(ByteSpan data, std::string_view name = "input",
                      Endian endian = Endian::kLittle)
      : data_(data), name_(name), endian_(endian) {}

  size_t offset() const { return offset_; }
  size_t remaining() const { return data_.size() - offset_; }
  bool empty() const { return remaining() == 0; }
  ByteSpan rest() const { return data_.subspan(offset_); }

  Result<uint8_t> U8(std::string_view what);
  Result<uint16_t> U16(std::string_view what);
  Result<uint32_t> U32(std::string_view what);
  Result<uint64_t> U64(std::string_view what);
  // The next n bytes, as a view into the buffer.
  Result<ByteSpan> Take(size_t n, std::string_view what);
  Status Skip(size_t n, std::string_view what);
  // Moves to an absolute offset (<= size).
  Status Seek(size_t offset);

  // The error for a value that was read but is not acceptable, with the reader's name and the
  // offset of the last field read.
  Status Error(std::string_view message) const;

 private:
  Status Need(size_t n, std::string_view what) const;

  ByteSpan data_;
  std::string name_;
  Endian endian_;
  size_t offset_ = 0;
  size_t last_offset_ = 0;
};

}  // namespace cvm
