// stb_image's implementation (Debian's libstb-dev ships the header only as source), compiled once
// and limited to the formats `mlc predict --input` reads: each decoder left out is attack surface
// left out.
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#include <stb/stb_image.h>
