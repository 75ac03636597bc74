// Where the catalogue lives, as users name it (--catalog, MLC_CATALOG, catalog copy --to).
#pragma once

#include <string>
#include <string_view>

namespace mlc {

// `text` with every password in it replaced by "***": a URL's user:PASSWORD@, a password=
// parameter of a URL's query or of libpq's keyword form. mlc records command lines in the history
// and prints them in errors; a password must reach neither.
std::string without_passwords(std::string_view text);

}  // namespace mlc
