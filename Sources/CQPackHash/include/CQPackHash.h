#include "qp_sha256.h"
#include "qp_xxh64.h"
