// Paths below MLC_HOME, proven to stay inside it. A symbolic link inside the home
// (deployments/prod -> /srv/models) would make deploy write, and retire or gc delete, the files it
// points at; so every path mlc creates, renames or deletes below the home is walked from the home
// root, one component at a time, without following links, and a link is refused. The home root
// itself may be a link: the user chose it. Nothing below it may be.
//
// A check, not a lock: it refuses links that are there when mlc looks (a directory shared by
// linking it into the home), not one made by another process between the check and the use.
#pragma once

#include <filesystem>

#include "mlc/home.hpp"

namespace mlc {

// Checks every component of `path` below `home.root`, `path` itself included, with
// openat(O_NOFOLLOW) from the root. Components that do not exist are accepted (there is nothing
// to follow; the caller may create them); `path` itself may be a file.
// Throws Error(integrity) "<component>: is a symbolic link; mlc never follows links inside its
// home" for a link, "<component>: is not a directory" for a file above `path`, Error(catalog)
// naming the component and the OS's reason if it cannot be examined, and Error(internal) if
// `path` is not lexically below `home.root` (a bug: names are single safe components).
void check_inside_home(const Home& home, const std::filesystem::path& path);

// Creates `dir` and every missing directory between it and the home root (the root too, through
// its link if it is one), each after checking as check_inside_home does. Throws as
// check_inside_home, and Error(catalog) naming the directory and the OS's reason if one cannot be
// created (a read-only home, a full disk).
void create_inside_home(const Home& home, const std::filesystem::path& dir);

}  // namespace mlc
