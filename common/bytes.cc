#include "common/bytes.h"

#include <cassert>

namespace cvm {

bool IsAllZero(ByteSpan b) {
  uint8_t acc = 0;
  for (uint8_t x : b) acc |= x;
  return acc == 0;
}

bool ConstantTimeEqual(ByteSpan a, ByteSpan b) {
  if (a.size() != b.size()) return false;
  uint8_t acc = 0;
  for (size_t i = 0; i < a.size(); ++i) acc |= static_cast<uint8_t>(a[i] ^ b[i]);
  return acc == 0;
}

namespace {
template <typename T>
T LoadLe(ByteSpan b, size_t offset) {
  assert(offset + sizeof(T) <= b.size());
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i)
    v |= static_cast<T>(static_cast<T>(b[offset + i]) << (8 * i));
  return v;
}
template <typename T>
T LoadBe(ByteSpan b, size_t offset) {
  assert(offset + sizeof(T) <= b.size());
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>((v << 8) | b[offset + i]);
  return v;
}
template <typename T>
void StoreLe(std::span<uint8_t> b, size_t offset, T v) {
  assert(offset + sizeof(T) <= b.size());
  for (size_t i = 0; i < sizeof(T); ++i) b[offset + i] = static_cast<uint8_t>(v >> (8 * i));
}
}  // namespace

uint16_t LoadLe16(ByteSpan b, size_t o) { return LoadLe<uint16_t>(b, o); }
uint32_t LoadLe32(ByteSpan b, size_t o) { return LoadLe<uint32_t>(b, o); }
uint64_t LoadLe64(ByteSpan b, size_t o) { return LoadLe<uint64_t>(b, o); }
void StoreLe16(std::span<uint8_t> b, size_t o, uint16_t v) { StoreLe(b, o, v); }
void StoreLe32(std::span<uint8_t> b, size_t o, uint32_t v) { StoreLe(b, o, v); }
void StoreLe64(std::span<uint8_t> b, size_t o, uint64_t v) { StoreLe(b, o, v); }
uint16_t LoadBe16(ByteSpan b, size_t o) { return LoadBe<uint16_t>(b, o); }
uint32_t LoadBe32(ByteSpan b, size_t o) { return LoadBe<uint32_t>(b, o); }
uint64_t LoadBe64(ByteSpan b, size_t o) { return LoadBe<uint64_t>(b, o); }

Status ByteReader::Need(size_t n, std::string_view what) const {
  if (n <= remaining()) return Status::Ok();
  return InvalidInput(name_ + ": truncated at offset " + std::to_string(offset_) + ": need " +
                      std::to_string(n) + " bytes for " + std::string(what) + ", " +
                      std::to_string(remaining()) + " left");
}

Status ByteReader::Error(std::string_view message) const {
  return InvalidInput(name_ + ": at offset " + std::to_string(last_offset_) + ": " +
                      std::string(message));
}

Result<ByteSpan> ByteReader::Take(size_t n, std::string_view what) {
  CVM_RETURN_IF_ERROR(Need(n, what));
  ByteSpan out = data_.subspan(offset_, n);
  last_offset_ = offset_;
  offset_ += n;
  return out;
}

Status ByteReader::Skip(size_t n, std::string_view what) { return Take(n, what).status(); }

Status ByteReader::Seek(size_t offset) {
  if (offset > data_.size()) {
    return InvalidInput(name_ + ": offset " + std::to_string(offset) + " is past the end (" +
                        std::to_string(data_.size()) + " bytes)");
  }
  offset_ = offset;
  return Status::Ok();
}

Result<uint8_t> ByteReader::U8(std::string_view what) {
  CVM_ASSIGN_OR_RETURN(ByteSpan b, Take(1, what));
  return b[0];
}
Result<uint16_t> ByteReader::U16(std::string_view what) {
  CVM_ASSIGN_OR_RETURN(ByteSpan b, Take(2, what));
  return endian_ == Endian::kLittle ? LoadLe16(b, 0) : LoadBe16(b, 0);
}
Result<uint32_t> ByteReader::U32(std::string_view what) {
  CVM_ASSIGN_OR_RETURN(ByteSpan b, Take(4, what));
  return endian_ == Endian::kLittle ? LoadLe32(b, 0) : LoadBe32(b, 0);
}
Result<uint64_t> ByteReader::U64(std::string_view what) {
  CVM_ASSIGN_OR_RETURN(ByteSpan b, Take(8, what));
  return endian_ == Endian::kLittle ? LoadLe64(b, 0) : LoadBe64(b, 0);
}

}  // namespace cvm
