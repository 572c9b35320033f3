#include "evidence/json_util.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "common/encoding.h"

namespace cvm::evidence {

namespace {

using nlohmann::json;

// Builds the document from nlohmann's SAX events (the documented json::sax_parse interface),
// refusing a duplicate member name and nesting deeper than kMaxJsonDepth as soon as they are
// seen. A duplicate is found by the insertion into the object itself; the parser callback used
// before this kept a set of every object's names and ran a std::function per value, which cost
// more than building the document.
//
// With `bytes_as_binary`, an array's elements are collected as bytes while they are all integers
// 0..255, and a non-empty array that ends that way becomes one binary value; the first element of
// another kind turns the bytes collected so far into ordinary elements.
class DomBuilder final : public nlohmann::json_sax<json> {
 public:
  DomBuilder(json& root, bool bytes_as_binary) : root_(root), bytes_as_binary_(bytes_as_binary) {}

  bool null() override { return Add(nullptr); }
  bool boolean(bool v) override { return Add(v); }
  bool number_integer(number_integer_t v) override { return Add(v); }
  bool number_unsigned(number_unsigned_t v) override {
    if (collecting_ && v <= 255) {
      bytes_.push_back(static_cast<uint8_t>(v));
      return true;
    }
    return Add(v);
  }
  bool number_float(number_float_t v, const string_t&) override { return Add(v); }
  bool string(string_t& v) override { return Add(std::move(v)); }
  bool binary(binary_t& v) override { return Add(json::binary(std::move(v))); }

  bool start_object(std::size_t) override { return Open(json::value_t::object); }
  bool key(string_t& name) override {
    auto& members = stack_.back()->get_ref<json::object_t&>();
    auto [it, inserted] = members.emplace(std::move(name), nullptr);
    if (!inserted) {
      duplicate_ = it->first;
      return false;
    }
    member_ = &it->second;
    return true;
  }
  bool end_object() override {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    if (!Open(json::value_t::array)) return false;
    collecting_ = bytes_as_binary_;
    return true;
  }
  bool end_array() override {
    if (collecting_ && !bytes_.empty()) *stack_.back() = json::binary(std::move(bytes_));
    bytes_.clear();
    collecting_ = false;
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    syntax_error_ = true;
    return false;
  }

  bool too_deep() const { return too_deep_; }
  bool syntax_error() const { return syntax_error_; }
  const std::string& duplicate() const { return duplicate_; }

 private:
  // Places a value where the document is at: the root, the next array element, or the member
  // whose key was just read. Returns where it went.
  // The bytes collected for the innermost array become its elements (an element that is not a
  // byte arrived, or a container opens inside it).
  void Flush() {
    if (!collecting_) return;
    auto& elements = stack_.back()->get_ref<json::array_t&>();
    elements.reserve(bytes_.size() + 1);
    for (uint8_t b : bytes_) elements.emplace_back(static_cast<number_unsigned_t>(b));
    bytes_.clear();
    collecting_ = false;
  }
  template <typename T>
  json* Place(T&& v) {
    Flush();
    if (stack_.empty()) {
      root_ = json(std::forward<T>(v));
      return &root_;
    }
    json* top = stack_.back();
    if (top->is_array()) {
      top->get_ref<json::array_t&>().emplace_back(std::forward<T>(v));
      return &top->get_ref<json::array_t&>().back();
    }
    *member_ = json(std::forward<T>(v));
    return member_;
  }
  template <typename T>
  bool Add(T&& v) {
    Place(std::forward<T>(v));
    return true;
  }
  bool Open(json::value_t type) {
    // As deep as the callback parser's depth: the number of enclosing containers.
    if (stack_.size() > static_cast<size_t>(kMaxJsonDepth)) {
      too_deep_ = true;
      return false;
    }
    stack_.push_back(Place(json(type)));
    return true;
  }

  json& root_;
  const bool bytes_as_binary_;
  bool collecting_ = false;  // the innermost open array still holds only bytes, in bytes_
  std::vector<uint8_t> bytes_;
  std::vector<json*> stack_;
  json* member_ = nullptr;
  bool too_deep_ = false;
  bool syntax_error_ = false;
  std::string duplicate_;
};

}  // namespace

Result<nlohmann::json> ParseJsonText(std::string_view text, std::string_view what,
                                     bool bytes_as_binary) {
  json value;
  DomBuilder builder(value, bytes_as_binary);
  bool ok = json::sax_parse(text.begin(), text.end(), &builder, json::input_format_t::json,
                            /*strict=*/true);
  if (builder.too_deep()) {
    return InvalidInput(std::string(what) + ": JSON nested deeper than " +
                        std::to_string(kMaxJsonDepth) + " levels");
  }
  if (!builder.duplicate().empty()) {
    return InvalidInput(std::string(what) + ": duplicate member \"" + builder.duplicate() + "\"");
  }
  if (!ok || builder.syntax_error()) return InvalidInput(std::string(what) + ": not valid JSON");
  return value;
}

Result<nlohmann::json> RequiredMember(const nlohmann::json& obj, std::string_view member,
                                      std::string_view what) {
  if (!obj.is_object()) return InvalidInput(std::string(what) + ": not a JSON object");
  auto it = obj.find(std::string(member));
  if (it == obj.end()) {
    return InvalidInput(std::string(what) + ": missing member \"" + std::string(member) + "\"");
  }
  return *it;
}

Result<std::string> RequiredString(const nlohmann::json& obj, std::string_view member,
                                   std::string_view what) {
  CVM_ASSIGN_OR_RETURN(nlohmann::json v, RequiredMember(obj, member, what));
  if (!v.is_string()) {
    return InvalidInput(std::string(what) + ": member \"" + std::string(member) +
                        "\" is not a string");
  }
  return v.get<std::string>();
}

Result<std::string> DumpJson(const nlohmann::json& value) {
  try {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  } catch (const nlohmann::json::exception& e) {
    return InvalidInput(std::string("JSON text: ") + e.what());
  }
}

}  // namespace cvm::evidence

namespace cvm::evidence::internal {

std::string Join(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  return std::string(a) + "." + std::string(b);
}

Status OnlyMembers(const nlohmann::json& value, std::initializer_list<std::string_view> allowed,
                   std::string_view path) {
  if (!value.is_object()) {
    return InvalidInput(std::string(path.empty() ? "document" : path) + ": not a JSON object");
  }
  for (const auto& [key, unused] : value.items()) {
    (void)unused;
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return InvalidInput(Join(path, key) + ": unknown member");
    }
  }
  return Status::Ok();
}

Result<const nlohmann::json*> Member(const nlohmann::json& obj, std::string_view name,
                                     std::string_view path) {
  auto it = obj.find(std::string(name));
  if (it == obj.end()) return InvalidInput(Join(path, name) + ": missing");
  return &*it;
}

Result<uint64_t> Uint(const nlohmann::json& value, uint64_t max, std::string_view path) {
  if (!value.is_number_unsigned() && !(value.is_number_integer() && value.get<int64_t>() >= 0)) {
    return InvalidInput(std::string(path) + ": not an unsigned integer");
  }
  uint64_t v = value.get<uint64_t>();
  if (v > max) {
    return InvalidInput(std::string(path) + ": " + std::to_string(v) + " exceeds " +
                        std::to_string(max));
  }
  return v;
}

Result<std::string> String(const nlohmann::json& value, std::string_view path) {
  if (!value.is_string()) return InvalidInput(std::string(path) + ": not a string");
  return value.get<std::string>();
}

Result<Bytes> ByteArray(const nlohmann::json& value, size_t size, std::string_view path,
                        size_t max_size) {
  if (value.is_binary()) {  // ParseJsonText's bytes_as_binary form of the same array
    const auto& bytes = value.get_binary();
    if (size != 0 && bytes.size() != size) {
      return InvalidInput(std::string(path) + ": " + std::to_string(bytes.size()) +
                          " bytes, expected " + std::to_string(size));
    }
    if (bytes.size() > max_size) {
      return InvalidInput(std::string(path) + ": longer than " + std::to_string(max_size) +
                          " bytes");
    }
    return Bytes(bytes.begin(), bytes.end());
  }
  if (!value.is_array()) return InvalidInput(std::string(path) + ": not an array of bytes");
  if (size != 0 && value.size() != size) {
    return InvalidInput(std::string(path) + ": " + std::to_string(value.size()) +
                        " bytes, expected " + std::to_string(size));
  }
  if (value.size() > max_size) {
    return InvalidInput(std::string(path) + ": longer than " + std::to_string(max_size) + " bytes");
  }
  Bytes out;
  out.reserve(value.size());
  for (const nlohmann::json& element : value) {
    // The element's path ("x[12]") only for an error: building it for every byte of a
    // certificate cost more than the rest of the conversion.
    if (element.is_number_unsigned() && element.get<uint64_t>() <= 255) {
      out.push_back(static_cast<uint8_t>(element.get<uint64_t>()));
      continue;
    }
    std::string at = std::string(path) + "[" + std::to_string(out.size()) + "]";
    CVM_ASSIGN_OR_RETURN(uint64_t b, Uint(element, 255, at));
    out.push_back(static_cast<uint8_t>(b));
  }
  return out;
}

nlohmann::json ToByteArray(ByteSpan bytes) {
  nlohmann::json a = nlohmann::json::array();
  for (uint8_t b : bytes) a.push_back(b);
  return a;
}

Result<Bytes> Base64Member(const nlohmann::json& value, std::string_view path) {
  CVM_ASSIGN_OR_RETURN(std::string s, String(value, path));
  return Base64Decode(s).WithContext(path);
}

Result<Bytes> Base64UrlMember(const nlohmann::json& value, std::string_view path) {
  CVM_ASSIGN_OR_RETURN(std::string s, String(value, path));
  return Base64UrlDecode(s).WithContext(path);
}

Result<Bytes> HexMember(const nlohmann::json& value, size_t size, std::string_view path) {
  CVM_ASSIGN_OR_RETURN(std::string s, String(value, path));
  if (size != 0) return HexDecodeFixed(s, size).WithContext(path);
  return HexDecode(s).WithContext(path);
}

}  // namespace cvm::evidence::internal
