#include "gpu/rim.h"

// xmlsec.h must come first: the other xmlsec headers use its types.
#include <xmlsec/xmlsec.h>
// clang-format off
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <xmlsec/errors.h>
#include <xmlsec/keys.h>
#include <xmlsec/openssl/app.h>
#include <xmlsec/openssl/crypto.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/xmldsig.h>
// clang-format on

#include <algorithm>
#include <array>
#include <cctype>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/file_util.h"
#include "gpu/roots.h"

namespace cvm::gpu {
namespace {

constexpr char kSwidNs[] = "http://standards.iso.org/iso/19770/-2/2015/schema.xsd";
constexpr char kSha384Ns[] = "http://www.w3.org/2001/04/xmlenc#sha384";
constexpr char kRimNs[] =
    "https://trustedcomputinggroup.org/resource/"
    "tcg-reference-integrity-manifest-rim-information-model/";
constexpr char kDsigNs[] = "http://www.w3.org/2000/09/xmldsig#";
constexpr size_t kMaxRimSize = 4 << 20;
constexpr unsigned kMaxAlternatives = 64;

// libxml2 and xmlsec1 are initialised once per process. Their error output goes nowhere: every
// failure is reported through a Status instead.
void SilentXmlError(void*, const char*, ...) {}
void SilentXmlSecError(const char*, int, const char*, const char*, const char*, int, const char*) {}

Status InitXmlSec() {
  static Status init = [] {
    xmlInitParser();
    xmlSetGenericErrorFunc(nullptr, SilentXmlError);
    xmlSecErrorsSetCallback(SilentXmlSecError);
    if (xmlSecInit() < 0) return Internal("xmlsec1 initialisation failed");
    if (xmlSecCheckVersion() != 1) return Internal("xmlsec1 library version mismatch");
    if (xmlSecOpenSSLAppInit(nullptr) < 0 || xmlSecOpenSSLInit() < 0) {
      return Internal("xmlsec1 OpenSSL backend initialisation failed");
    }
    return Status::Ok();
  }();
  return init;
}

struct DocFree {
  void operator()(xmlDoc* d) const { xmlFreeDoc(d); }
};
using Doc = std::unique_ptr<xmlDoc, DocFree>;

struct DsigFree {
  void operator()(xmlSecDSigCtx* c) const { xmlSecDSigCtxDestroy(c); }
};

std::string Attr(const xmlNode* n, const char* name, const char* ns = nullptr) {
  xmlChar* v = ns ? xmlGetNsProp(n, reinterpret_cast<const xmlChar*>(name),
                                 reinterpret_cast<const xmlChar*>(ns))
                  : xmlGetNoNsProp(n, reinterpret_cast<const xmlChar*>(name));
  if (v == nullptr) return "";
  std::string s(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return s;
}

bool HasAttr(const xmlNode* n, const char* name, const char* ns = nullptr) {
  return ns ? xmlHasNsProp(n, reinterpret_cast<const xmlChar*>(name),
                           reinterpret_cast<const xmlChar*>(ns)) != nullptr
            : xmlHasNsProp(n, reinterpret_cast<const xmlChar*>(name), nullptr) != nullptr;
}

bool Is(const xmlNode* n, const char* ns, const char* name) {
  return n->type == XML_ELEMENT_NODE && n->ns != nullptr &&
         xmlStrEqual(n->ns->href, reinterpret_cast<const xmlChar*>(ns)) &&
         xmlStrEqual(n->name, reinterpret_cast<const xmlChar*>(name));
}

std::vector<xmlNode*> Children(xmlNode* parent, const char* ns, const char* name) {
  std::vector<xmlNode*> out;
  for (xmlNode* c = parent->children; c != nullptr; c = c->next) {
    if (Is(c, ns, name)) out.push_back(c);
  }
  return out;
}

// Descendants (depth first, document order).
void Descendants(xmlNode* parent, const char* ns, const char* name, std::vector<xmlNode*>* out) {
  for (xmlNode* c = parent->children; c != nullptr; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    if (Is(c, ns, name)) out->push_back(c);
    Descendants(c, ns, name, out);
  }
}

Result<unsigned> ParseUnsigned(const std::string& s, std::string_view what) {
  if (s.empty() || s.size() > 6 ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return InvalidInput("rim: " + std::string(what) + " '" + s + "' is not a small number");
  }
  return static_cast<unsigned>(std::stoul(s));
}

std::string TextOf(const xmlNode* n) {
  xmlChar* c = xmlNodeGetContent(n);
  if (c == nullptr) return "";
  std::string s(reinterpret_cast<const char*>(c));
  xmlFree(c);
  return s;
}

Result<Doc> ParseXml(ByteSpan xml) {
  if (xml.size() > kMaxRimSize) {
    return InvalidInput("rim: " + std::to_string(xml.size()) + " bytes is over the limit");
  }
  CVM_RETURN_IF_ERROR(InitXmlSec());
  // No network, no entity substitution, no DTD loading (libxml2 defaults for the last two).
  Doc doc(xmlReadMemory(reinterpret_cast<const char*>(xml.data()), static_cast<int>(xml.size()),
                        "rim.xml", nullptr,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (!doc) {
    const xmlError* e = xmlGetLastError();
    std::string msg = e && e->message ? e->message : "parse error";
    while (!msg.empty() && std::isspace(static_cast<unsigned char>(msg.back()))) msg.pop_back();
    xmlResetLastError();
    return InvalidInput("rim: not well-formed XML: " + msg +
                        (e ? " (line " + std::to_string(e->line) + ")" : ""));
  }
  if (doc->intSubset != nullptr || doc->extSubset != nullptr) {
    return InvalidInput("rim: a DOCTYPE is not allowed");
  }
  xmlNode* root = xmlDocGetRootElement(doc.get());
  if (root == nullptr || !Is(root, kSwidNs, "SoftwareIdentity")) {
    return InvalidInput("rim: the root element is not a SWID SoftwareIdentity");
  }
  return doc;
}

Result<Rim> FromDoc(xmlDoc* doc) {
  xmlNode* root = xmlDocGetRootElement(doc);
  Rim rim;
  rim.tag_id = Attr(root, "tagId");
  rim.name = Attr(root, "name");
  auto metas = Children(root, kSwidNs, "Meta");
  if (metas.size() != 1) {
    return InvalidInput("rim: expected one Meta element, found " + std::to_string(metas.size()));
  }
  rim.version = Attr(metas[0], "colloquialVersion");
  rim.product = Attr(metas[0], "product");
  rim.manufacturer_id = Attr(metas[0], "PlatformManufacturerId", kRimNs);
  if (rim.version.empty()) return InvalidInput("rim: Meta has no colloquialVersion");
  auto payloads = Children(root, kSwidNs, "Payload");
  if (payloads.size() != 1) {
    return InvalidInput("rim: expected one Payload element, found " +
                        std::to_string(payloads.size()));
  }
  std::vector<bool> seen;
  for (xmlNode* res : Children(payloads[0], kSwidNs, "Resource")) {
    if (Attr(res, "type") != "Measurement") continue;
    GoldenValue g;
    CVM_ASSIGN_OR_RETURN(g.index, ParseUnsigned(Attr(res, "index"), "Resource index"));
    if (g.index >= 255) {
      return InvalidInput("rim: Resource index " + std::to_string(g.index) + " is out of range");
    }
    if (seen.size() <= g.index) seen.resize(g.index + 1, false);
    if (seen[g.index]) {
      return InvalidInput("rim: duplicate Resource index " + std::to_string(g.index));
    }
    seen[g.index] = true;
    std::string active = Attr(res, "active");
    std::transform(active.begin(), active.end(), active.begin(),
                   [](char c) { return static_cast<char>(std::tolower(c)); });
    if (active != "true" && active != "false") {
      return InvalidInput("rim: Resource " + std::to_string(g.index) + " has active='" +
                          Attr(res, "active") + "'");
    }
    g.active = active == "true";
    g.name = Attr(res, "name");
    CVM_ASSIGN_OR_RETURN(unsigned alternatives,
                         ParseUnsigned(Attr(res, "alternatives"), "Resource alternatives"));
    if (alternatives == 0 || alternatives > kMaxAlternatives) {
      return InvalidInput("rim: Resource " + std::to_string(g.index) + " has " +
                          std::to_string(alternatives) + " alternatives");
    }
    CVM_ASSIGN_OR_RETURN(unsigned size, ParseUnsigned(Attr(res, "size"), "Resource size"));
    g.size = size;
    for (unsigned a = 0; a < alternatives; ++a) {
      std::string attr = "Hash" + std::to_string(a);
      if (!HasAttr(res, attr.c_str(), kSha384Ns)) {
        return InvalidInput("rim: Resource " + std::to_string(g.index) + " has no " + attr);
      }
      auto h = HexDecode(Attr(res, attr.c_str(), kSha384Ns));
      if (!h.ok()) {
        return h.status().WithContext("rim: Resource " + std::to_string(g.index) + " " + attr);
      }
      if (h->size() != g.size) {
        return InvalidInput("rim: Resource " + std::to_string(g.index) + " " + attr + " has " +
                            std::to_string(h->size()) + " bytes, size says " +
                            std::to_string(g.size));
      }
      g.hashes.push_back(std::move(h).value());
    }
    rim.values.push_back(std::move(g));
  }
  if (rim.values.empty()) return InvalidInput("rim: no measurement Resource");

  std::vector<xmlNode*> certs;
  Descendants(root, kDsigNs, "X509Certificate", &certs);
  for (xmlNode* c : certs) {
    std::string b64;
    for (char ch : TextOf(c)) {
      if (!std::isspace(static_cast<unsigned char>(ch))) b64.push_back(ch);
    }
    auto der = Base64Decode(b64);
    if (!der.ok()) return der.status().WithContext("rim: X509Certificate");
    auto cert = Certificate::FromDer(*der);
    if (!cert.ok()) return cert.status().WithContext("rim: X509Certificate");
    rim.embedded_certs.push_back(std::move(cert).value());
  }
  return rim;
}

// The signature must cover the whole document: one Reference, URI "", enveloped-signature plus
// a canonicalisation. Anything else (XPath filters, external URIs) could leave the golden values
// unsigned while the signature still verifies.
Status CheckSignatureShape(xmlNode* root, xmlNode** signature) {
  std::vector<xmlNode*> sigs;
  Descendants(root, kDsigNs, "Signature", &sigs);
  if (sigs.empty()) return Rejected("rim: unsigned (no ds:Signature)");
  if (sigs.size() != 1) return Rejected("rim: more than one ds:Signature");
  if (sigs[0]->parent != root) return Rejected("rim: ds:Signature is not enveloped by the root");
  auto signed_info = Children(sigs[0], kDsigNs, "SignedInfo");
  if (signed_info.size() != 1) return Rejected("rim: ds:Signature needs one ds:SignedInfo");
  auto refs = Children(signed_info[0], kDsigNs, "Reference");
  if (refs.size() != 1) {
    return Rejected("rim: ds:SignedInfo has " + std::to_string(refs.size()) +
                    " references, expected 1");
  }
  if (!HasAttr(refs[0], "URI") || !Attr(refs[0], "URI").empty()) {
    return Rejected("rim: the signed reference is not the whole document (URI must be \"\")");
  }
  static const std::array<std::string_view, 6> kAllowed = {
      "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
      "http://www.w3.org/2006/12/xml-c14n11",
      "http://www.w3.org/2006/12/xml-c14n11#WithComments",
      "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
      "http://www.w3.org/2001/10/xml-exc-c14n#",
      "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
  };
  bool enveloped = false;
  for (xmlNode* ts : Children(refs[0], kDsigNs, "Transforms")) {
    for (xmlNode* t : Children(ts, kDsigNs, "Transform")) {
      std::string alg = Attr(t, "Algorithm");
      if (std::find(kAllowed.begin(), kAllowed.end(), alg) == kAllowed.end()) {
        return Rejected("rim: reference transform '" + alg + "' is not allowed");
      }
      if (alg == kAllowed[0]) enveloped = true;
    }
  }
  if (!enveloped) return Rejected("rim: the reference has no enveloped-signature transform");
  *signature = sigs[0];
  return Status::Ok();
}

// The embedded certificate that issued none of the others: the signer.
Result<size_t> SignerIndex(const std::vector<Certificate>& certs) {
  std::optional<size_t> found;
  for (size_t i = 0; i < certs.size(); ++i) {
    bool issues_other = false;
    for (size_t j = 0; j < certs.size(); ++j) {
      if (i != j && certs[j].Issuer() == certs[i].Subject() &&
          certs[j].Subject() != certs[j].Issuer()) {
        issues_other = true;
      }
    }
    if (!issues_other) {
      if (found) return Rejected("rim: more than one candidate signer certificate in X509Data");
      found = i;
    }
  }
  if (!found) return Rejected("rim: no signer certificate in X509Data");
  return *found;
}

}  // namespace

std::vector<const GoldenValue*> Rim::Active() const {
  std::vector<const GoldenValue*> out;
  for (const auto& v : values) {
    if (v.active) out.push_back(&v);
  }
  return out;
}

Result<Rim> ParseRim(ByteSpan xml) {
  CVM_ASSIGN_OR_RETURN(Doc doc, ParseXml(xml));
  return FromDoc(doc.get());
}

Result<Rim> VerifyRim(ByteSpan xml, const RimVerifyOptions& options) {
  if (options.at == TimePoint{}) return InvalidInput("RIM: no verification time given");
  CVM_ASSIGN_OR_RETURN(Doc doc, ParseXml(xml));
  CVM_ASSIGN_OR_RETURN(Rim rim, FromDoc(doc.get()));
  xmlNode* sig_node = nullptr;
  CVM_RETURN_IF_ERROR(CheckSignatureShape(xmlDocGetRootElement(doc.get()), &sig_node));

  if (rim.embedded_certs.empty()) return Rejected("rim: no signer certificate in ds:KeyInfo");
  CVM_ASSIGN_OR_RETURN(size_t si, SignerIndex(rim.embedded_certs));
  const Certificate& signer = rim.embedded_certs[si];
  std::vector<Certificate> others;
  for (size_t i = 0; i < rim.embedded_certs.size(); ++i) {
    if (i != si) others.push_back(rim.embedded_certs[i]);
  }
  std::vector<Certificate> anchors = options.anchors;
  if (anchors.empty()) anchors.push_back(RimRoot());
  ChainOptions co;
  co.at = options.at;
  Status chain = VerifyChain(signer, others, anchors, co);
  if (!chain.ok()) return chain.WithContext("rim signer");

  // xmlsec gets the verified signer's key directly, so it never chooses a key from KeyInfo.
  CVM_ASSIGN_OR_RETURN(ossl::PKey key, signer.PublicKey());
  std::unique_ptr<xmlSecDSigCtx, DsigFree> ctx(xmlSecDSigCtxCreate(nullptr));
  if (!ctx) return Internal("xmlSecDSigCtxCreate failed");
  ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
  xmlSecKeyDataPtr data = xmlSecOpenSSLEvpKeyAdopt(key.get());
  if (data == nullptr) return Internal("xmlsec: cannot adopt the signer key");
  key.release();  // now owned by `data`
  xmlSecKeyPtr xkey = xmlSecKeyCreate();
  if (xkey == nullptr || xmlSecKeySetValue(xkey, data) < 0) {
    if (xkey) xmlSecKeyDestroy(xkey);
    xmlSecKeyDataDestroy(data);
    return Internal("xmlsec: cannot create the signer key");
  }
  ctx->signKey = xkey;  // owned by ctx
  if (xmlSecDSigCtxVerify(ctx.get(), sig_node) < 0) {
    return Rejected(
        "rim signature: the signature could not be processed (unsupported algorithm "
        "or malformed ds:Signature)");
  }
  if (ctx->status != xmlSecDSigStatusSucceeded) {
    return Rejected("rim signature: digest or signature value does not verify with " +
                    signer.CommonName());
  }
  if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) != 1) {
    return Rejected("rim signature: expected exactly one verified reference");
  }
  rim.signer = signer;
  return rim;
}

std::string DriverRimId(bool blackwell, const std::string& chip_info, const std::string& driver) {
  if (!blackwell) return "NV_GPU_DRIVER_GH100_" + driver;
  return "NV_GPU_CC_DRIVER_" + (chip_info.empty() ? std::string("GB100") : chip_info) + "_" +
         driver;
}

std::string VbiosRimId(const std::string& project, const std::string& project_sku,
                       const std::string& chip_sku, const std::string& vbios_version) {
  std::string v;
  for (char c : vbios_version) {
    if (c != '.') v.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  auto up = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  };
  return "NV_GPU_VBIOS_" + up(project) + "_" + up(project_sku) + "_" + up(chip_sku) + "_" + v;
}

namespace {
// RIM ids become file names: only [A-Za-z0-9._-], never a path.
Status CheckId(const std::string& id) {
  if (id.empty() || id.size() > 200 || id[0] == '.' ||
      !std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
      })) {
    return InvalidInput("rim id '" + id + "' has characters not allowed in a RIM id");
  }
  return Status::Ok();
}
}  // namespace

Result<Bytes> DirectoryRimSource::Fetch(const std::string& id) const {
  CVM_RETURN_IF_ERROR(CheckId(id));
  for (const char* ext : {".xml", ".swidtag"}) {
    auto b = ReadFile(dir_ + "/" + id + ext, kMaxRimSize);
    if (b.ok() || b.status().code() != Code::kNotFound) return b;
  }
  return NotFound("rim " + id + ": not in " + dir_);
}

Result<Bytes> ServiceRimSource::Fetch(const std::string& id) const {
  CVM_RETURN_IF_ERROR(CheckId(id));
  if (!cache_.empty()) {
    auto cached = DirectoryRimSource(cache_).Fetch(id);
    if (cached.ok() || cached.status().code() != Code::kNotFound) return cached;
  }
  HttpRequest req;
  req.url = base_url_ + id;
  req.max_response_bytes = kMaxRimSize * 2;
  CVM_ASSIGN_OR_RETURN(HttpResponse resp, http_.Send(req));
  if (resp.status == 404) return NotFound("rim " + id + ": the RIM service does not know it");
  if (resp.status != 200) {
    return Unavailable("rim " + id + ": the RIM service answered HTTP " +
                       std::to_string(resp.status));
  }
  auto j = nlohmann::json::parse(AsChars(resp.body), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("rim") || !j["rim"].is_string()) {
    return InvalidInput("rim " + id + ": the RIM service answer has no \"rim\" string");
  }
  auto xml = Base64Decode(j["rim"].get<std::string>());
  if (!xml.ok()) return xml.status().WithContext("rim " + id);
  if (!cache_.empty()) {
    CVM_RETURN_IF_ERROR(MakeDirs(cache_, 0755));
    CVM_RETURN_IF_ERROR(WriteFileAtomic(cache_ + "/" + id + ".xml", *xml, 0644));
  }
  return xml;
}

}  // namespace cvm::gpu
