#include "tdx/json_raw.h"

#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

namespace cvm::tdx {
namespace {

// An input iterator over the document that counts the characters nlohmann's lexer has consumed,
// so the SAX callbacks below know where each container starts and ends.
class CountingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  CountingIterator(const char* p, size_t* consumed) : p_(p), consumed_(consumed) {}
  reference operator*() const { return *p_; }
  CountingIterator& operator++() {
    ++p_;
    ++*consumed_;
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator old = *this;
    ++*this;
    return old;
  }
  bool operator==(const CountingIterator& o) const { return p_ == o.p_; }
  bool operator!=(const CountingIterator& o) const { return p_ != o.p_; }

 private:
  const char* p_;
  size_t* consumed_;
};

// Records the extent of the value of member `key` of the top-level object.
class Locator : public nlohmann::json_sax<nlohmann::json> {
 public:
  Locator(std::string_view key, const size_t* consumed) : key_(key), consumed_(consumed) {}

  bool null() override { return Scalar(); }
  bool boolean(bool) override { return Scalar(); }
  bool number_integer(number_integer_t) override { return Scalar(); }
  bool number_unsigned(number_unsigned_t) override { return Scalar(); }
  bool number_float(number_float_t, const string_t&) override { return Scalar(); }
  bool string(string_t&) override { return Scalar(); }
  bool binary(binary_t&) override { return Scalar(); }
  bool start_object(std::size_t) override { return Open(true); }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override { return Open(false); }
  bool end_array() override { return Close(); }
  bool key(string_t& k) override {
    if (depth_ == 1) in_target_ = (k == key_) && !found_;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error_ = e.what();
    return false;
  }

  bool top_is_object = false;
  bool found_ = false;
  bool scalar_target = false;
  size_t begin = 0, end = 0;
  std::string error_;

 private:
  bool Scalar() {
    if (depth_ == 1 && in_target_) {
      scalar_target = true;
      in_target_ = false;
    }
    return true;
  }
  bool Open(bool object) {
    if (depth_ == 0) top_is_object = object;
    if (depth_ == 1 && in_target_) begin = *consumed_ - 1;  // the '{' or '[' just consumed
    ++depth_;
    return true;
  }
  bool Close() {
    --depth_;
    if (depth_ == 1 && in_target_) {
      end = *consumed_;  // just past the '}' or ']'
      found_ = true;
      in_target_ = false;
    }
    return true;
  }

  std::string key_;
  const size_t* consumed_;
  int depth_ = 0;
  bool in_target_ = false;
};

}  // namespace

Result<std::string_view> RawMemberText(std::string_view json, std::string_view key) {
  size_t consumed = 0;
  Locator loc(key, &consumed);
  CountingIterator first(json.data(), &consumed), last(json.data() + json.size(), &consumed);
  bool ok = nlohmann::json::sax_parse(first, last, &loc, nlohmann::json::input_format_t::json,
                                      /*strict=*/true);
  if (!ok) return InvalidInput("json: " + (loc.error_.empty() ? "parse error" : loc.error_));
  if (!loc.top_is_object) return InvalidInput("json: not an object");
  if (loc.scalar_target) {
    return InvalidInput("json: member \"" + std::string(key) + "\" is not an object or array");
  }
  if (!loc.found_ || loc.end <= loc.begin || loc.end > json.size()) {
    return InvalidInput("json: no member \"" + std::string(key) + "\"");
  }
  std::string_view raw = json.substr(loc.begin, loc.end - loc.begin);
  char open = raw.front(), close = raw.back();
  if (!((open == '{' && close == '}') || (open == '[' && close == ']'))) {
    return Internal("json: could not locate the text of member \"" + std::string(key) + "\"");
  }
  return raw;
}

}  // namespace cvm::tdx
