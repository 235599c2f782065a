#include "qp_runtime.h"
#include "qp_container.h"
#include "qp_ukernel.h"
#include "qp_model.h"
