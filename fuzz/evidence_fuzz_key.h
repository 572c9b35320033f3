// A fixed P-256 key for the evidence fuzz targets (test material only, never used elsewhere),
// so that a crashing input reproduces with the same key.
#pragma once

#include <string_view>

inline constexpr std::string_view kFuzzP256Pem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgXiv6yF6h8xv4bSyk\n"
    "QIdUtpoNhsvNtyUufA+cMboPYJGhRANCAAR9c+IC+zxuQo8fkGy8yxflAvZhZbbF\n"
    "A780d1EnjxfTy0Gpi14eCP/G3qKQItviWFifPb7FiThAH7VIynRYGyN7\n"
    "-----END PRIVATE KEY-----\n";
