#include "qp_runtime.h"

#include <json-c/json_c_version.h>
#include <zstd.h>

const char *qp_zstd_version(void) { return ZSTD_versionString(); }

const char *qp_json_c_version(void) { return json_c_version(); }
