#include "tdx/pcs.h"

#include "common/encoding.h"

namespace cvm::tdx {
namespace {

// Issuer-chain headers are percent-encoded PEM (RFC 3986 section 2.1).
Result<std::string> PercentDecode(std::string_view in, std::string_view what) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) {
      return InvalidInput(std::string(what) + ": truncated percent escape");
    }
    auto b = HexDecode(in.substr(i + 1, 2));
    if (!b.ok()) return InvalidInput(std::string(what) + ": bad percent escape");
    out.push_back(static_cast<char>((*b)[0]));
    i += 2;
  }
  return out;
}

Result<HttpResponse> Get(HttpClient& http, const std::string& url) {
  HttpRequest req;
  req.url = url;
  auto resp = http.Send(req);
  // The HTTP client's error names the URL already (http.h).
  if (!resp.ok()) return resp.status().WithContext("Intel PCS");
  if (resp->status != 200) {
    return Unavailable("GET " + url + ": HTTP " + std::to_string(resp->status));
  }
  return resp;
}

Result<std::string> Chain(const HttpResponse& resp, const char* header) {
  std::string value = resp.Header(header);
  if (value.empty()) return InvalidInput(std::string("pcs: response without ") + header);
  return PercentDecode(value, header);
}

}  // namespace

Result<Collateral> FetchCollateral(HttpClient& http, const Certificate& pck,
                                   const PckExtensions& ext, const PcsOptions& o) {
  Collateral c;
  const std::string tdx = o.base_url + "/tdx/certification/v4";
  CVM_ASSIGN_OR_RETURN(HttpResponse tcb, Get(http, tdx + "/tcb?fmspc=" + HexEncode(ext.fmspc)));
  CVM_ASSIGN_OR_RETURN(c.tcb_info_issuer_chain, Chain(tcb, "TCB-Info-Issuer-Chain"));
  CVM_ASSIGN_OR_RETURN(SignedJson t, ParseSignedResponse(AsChars(tcb.body), "tcbInfo"));
  c.tcb_info = std::move(t.text);
  c.tcb_info_signature = std::move(t.signature);

  CVM_ASSIGN_OR_RETURN(HttpResponse qe, Get(http, tdx + "/qe/identity"));
  CVM_ASSIGN_OR_RETURN(c.qe_identity_issuer_chain, Chain(qe, "SGX-Enclave-Identity-Issuer-Chain"));
  CVM_ASSIGN_OR_RETURN(SignedJson q, ParseSignedResponse(AsChars(qe.body), "enclaveIdentity"));
  c.qe_identity = std::move(q.text);
  c.qe_identity_signature = std::move(q.signature);

  std::string issuer = pck.Issuer();
  const char* ca = issuer.find("Processor CA") != std::string::npos ? "processor" : "platform";
  CVM_ASSIGN_OR_RETURN(
      HttpResponse crl,
      Get(http, o.base_url + "/sgx/certification/v4/pckcrl?ca=" + ca + "&encoding=der"));
  CVM_ASSIGN_OR_RETURN(c.pck_crl_issuer_chain, Chain(crl, "SGX-PCK-CRL-Issuer-Chain"));
  c.pck_crl = std::move(crl.body);

  CVM_ASSIGN_OR_RETURN(HttpResponse root, Get(http, o.root_crl_url));
  c.root_ca_crl = std::move(root.body);
  return c;
}

}  // namespace cvm::tdx
