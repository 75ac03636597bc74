// doctest for tests that include libtorch: include this instead of <doctest/doctest.h>, first.
//
// libtorch's headers pull in glog, whose CHECK, CHECK_EQ, ... macros abort the process on
// failure. Included after doctest.h they silently replace doctest's CHECKs. glog's header is
// guarded, so once it has been seen here and its macros dropped, later torch includes keep
// doctest's.
#pragma once

#include <c10/util/Logging.h>

#undef CHECK
#undef CHECK_EQ
#undef CHECK_NE
#undef CHECK_LE
#undef CHECK_LT
#undef CHECK_GE
#undef CHECK_GT

#include <doctest/doctest.h>
