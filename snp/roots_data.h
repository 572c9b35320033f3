// The PEM text of AMD's built-in certificates (roots_data.cc). Private to snp/roots.cc.
#pragma once

namespace cvm::snp::roots_data {

extern const char kArkMilan[];
extern const char kAskMilan[];
extern const char kAsvkMilan[];
extern const char kArkGenoa[];
extern const char kAskGenoa[];
extern const char kAsvkGenoa[];
extern const char kArkTurin[];
extern const char kAskTurin[];
extern const char kAsvkTurin[];

}  // namespace cvm::snp::roots_data
