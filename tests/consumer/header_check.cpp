// kcp.h compiles as C++17 with -Wall -Wextra -pedantic -Werror, and its
// declarations link from C++.
#include <kcp.h>

#include <cstdio>

int main() {
    static_assert(KCP_VERSION_NUMBER >= 0, "a version number");
    std::printf("C++ sees kcp %s\n", kcp_version_string());
    return kcp_version() == KCP_VERSION_NUMBER ? 0 : 1;
}
