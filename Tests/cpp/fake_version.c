/* fake_version.c: a stand-in recur_version_number(), loaded with LD_PRELOAD so
 * that test_wrapper --version can see how recur.hpp treats other library
 * versions (newer MINOR: fine; older MINOR or another MAJOR: VersionError).
 * Built as build/tests/fake_version_<NUMBER>.so with -DRECUR_FAKE_VERSION=<NUMBER>. */
#include <stdint.h>

uint32_t recur_version_number(void);

uint32_t recur_version_number(void)
{
    return RECUR_FAKE_VERSION;
}
