/*
 * variants.h - what the index front needs of the variant table beyond the
 * public API (newsdex/analyze.h): the groups that files added, to keep
 * them in an index.
 */
#ifndef NDX_CORE_VARIANTS_H
#define NDX_CORE_VARIANTS_H

#include "newsdex/status.h"
#include "util/buf.h"

/* First line of INDEX/VARIANTS; another first line is another version. */
#define NDX_VARIANTS_HEADER "# newsdex variants 1\n"

/* Appends to out the INDEX/VARIANTS text of the groups added by
 * ndx_variants_load (nothing when none was): NDX_OK or NDX_ENOMEM. */
ndx_status ndx_variants_added(ndx_buf *out);

#endif
