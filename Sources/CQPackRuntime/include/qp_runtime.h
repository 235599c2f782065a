#ifndef QP_RUNTIME_H
#define QP_RUNTIME_H

/* qpack's bundled C runtime. So far it reports the versions of the system libraries it links;
 * the container loader and kernels build on this. */

#ifdef __cplusplus
extern "C" {
#endif

/* Version of libzstd in use, e.g. "1.5.4". */
const char *qp_zstd_version(void);

/* Version of json-c in use, e.g. "0.16". */
const char *qp_json_c_version(void);

#ifdef __cplusplus
}
#endif

#endif
