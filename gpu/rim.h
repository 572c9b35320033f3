// NVIDIA Reference Integrity Manifests (RIMs): TCG "RIM information model" SWID tags (ISO/IEC
// 19770-2 XML) with an enveloped XML-DSig signature, one per driver release and one per VBIOS.
// Each active <Resource type="Measurement" index="i"> holds the golden SHA-384 values (attributes
// Hash0..Hash{alternatives-1} in namespace http://www.w3.org/2001/04/xmlenc#sha384) of SPDM
// measurement block i+1.
//
// The XML is parsed by libxml2 and the signature checked by xmlsec1 (C14N 1.1, ecdsa-sha384);
// neither library appears in this header.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/http.h"
#include "common/x509.h"

namespace cvm::gpu {

struct GoldenValue {
  unsigned index = 0;  // RIM index: SPDM block index - 1
  bool active = false;
  std::vector<Bytes> hashes;  // the alternatives; any one matches
  size_t size = 0;            // the value size the RIM states (48)
  std::string name;
};

struct Rim {
  std::string tag_id;   // SoftwareIdentity@tagId
  std::string name;     // SoftwareIdentity@name, e.g. "GH100"
  std::string version;  // Meta@colloquialVersion: driver "550.144.03" or VBIOS "96.00.5E.00.01"
  std::string product;  // Meta@product
  std::string manufacturer_id;  // Meta@PlatformManufacturerId (TCG RIM namespace), "5703"
  std::vector<GoldenValue> values;
  // The certificates in ds:KeyInfo/ds:X509Data, in document order (not checked by ParseRim).
  std::vector<Certificate> embedded_certs;
  // Set by VerifyRim: the certificate whose key signed the RIM.
  std::optional<Certificate> signer;

  // Active golden values only.
  std::vector<const GoldenValue*> Active() const;
};

// Parses a RIM without checking its signature (for display and fuzzing; never trust the result).
// kInvalidInput naming the problem for XML that is not well-formed, has a DOCTYPE, is not a
// SoftwareIdentity, or has a Resource with a bad index, hash or size.
Result<Rim> ParseRim(ByteSpan xml);

struct RimVerifyOptions {
  // REQUIRED: when the signer chain's validity periods are evaluated, taken from a Clock; no
  // default (the epoch is refused).
  TimePoint at{};
  // Trust anchors; empty: NVIDIA's built-in RIM root (roots.h). Tests pass their own.
  std::vector<Certificate> anchors;
};

// Verifies a RIM, in order: parses it (ParseRim errors); requires exactly one ds:Signature, a
// child of the root element, with one ds:Reference whose URI is "" (the whole document) and
// whose transforms are enveloped-signature and a canonicalisation (kRejected otherwise); finds
// the signer among the embedded certificates (the one that issued none of the others) and
// verifies its chain to `anchors` at `options.at` (kRejected naming the certificate and reason);
// verifies the XML signature with that certificate's key through xmlsec1 (kRejected
// "rim signature: ..." when the digest or signature value does not hold). Returns the parsed RIM
// with `signer` set. Thread-safe.
Result<Rim> VerifyRim(ByteSpan xml, const RimVerifyOptions& options);

// RIM ids as NVIDIA's RIM service names them.
// Hopper driver: NV_GPU_DRIVER_GH100_<driver>; Blackwell: NV_GPU_CC_DRIVER_<chip>_<driver>.
std::string DriverRimId(bool blackwell, const std::string& chip_info, const std::string& driver);
// NV_GPU_VBIOS_<project>_<project sku>_<chip sku>_<VBIOS version without dots, upper case>.
std::string VbiosRimId(const std::string& project, const std::string& project_sku,
                       const std::string& chip_sku, const std::string& vbios_version);

// Where RIMs come from, by id. Implementations return kNotFound for an unknown id.
class RimSource {
 public:
  virtual ~RimSource() = default;
  virtual Result<Bytes> Fetch(const std::string& id) const = 0;
};

// RIMs in a directory as <id>.xml or <id>.swidtag (NVIDIA SDK's file-system RIM store layout).
class DirectoryRimSource final : public RimSource {
 public:
  explicit DirectoryRimSource(std::string dir) : dir_(std::move(dir)) {}
  Result<Bytes> Fetch(const std::string& id) const override;

 private:
  std::string dir_;
};

// NVIDIA's RIM service (GET <base_url><id> -> JSON {"id", "rim": base64(XML), ...}) through an
// injected HTTP client, keeping every fetched RIM in `cache_dir` (empty: no cache) as <id>.xml so
// that later runs work offline. What comes back is untrusted and verified like any RIM file.
// `http` must outlive this object; not thread-safe (one request at a time).
class ServiceRimSource final : public RimSource {
 public:
  static constexpr char kDefaultBaseUrl[] = "https://rim.attestation.nvidia.com/v1/rim/";
  ServiceRimSource(HttpClient& http, std::string cache_dir, std::string base_url = kDefaultBaseUrl)
      : http_(http), cache_(std::move(cache_dir)), base_url_(std::move(base_url)) {}
  Result<Bytes> Fetch(const std::string& id) const override;

 private:
  HttpClient& http_;
  std::string cache_;
  std::string base_url_;
};

}  // namespace cvm::gpu
