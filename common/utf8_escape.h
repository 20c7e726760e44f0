// EscapeToUtf8 makes any byte string valid UTF-8, losslessly: a backslash
// becomes "\\" and each byte that is not part of a valid UTF-8 sequence
// becomes "\xHH". Valid UTF-8 without backslashes comes back unchanged, so
// ordinary file names read as they are. Protobuf strings must be UTF-8;
// file names on Linux need not be.
#ifndef DXBACKUP_COMMON_UTF8_ESCAPE_H_
#define DXBACKUP_COMMON_UTF8_ESCAPE_H_

#include <string>
#include <string_view>

namespace dxbackup::common {

std::string EscapeToUtf8(std::string_view bytes);

// The length of the well-formed UTF-8 sequence at s[i] (1-4; overlong
// forms, surrogates and code points past U+10FFFF are not), or 0.
size_t Utf8SequenceLength(std::string_view s, size_t i);
// True when every byte of `s` is part of a well-formed UTF-8 sequence.
bool IsValidUtf8(std::string_view s);

}  // namespace dxbackup::common

#endif  // DXBACKUP_COMMON_UTF8_ESCAPE_H_
