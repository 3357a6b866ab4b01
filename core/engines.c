/*
 * engines.c - the list of engines this build knows.  The Xapian engine
 * lives in core/xapian/ and is compiled only with NDX_WITH_XAPIAN; without
 * it, asking for it answers NULL and the front says "not built in".
 */
#include "newsdex/sys/engine.h"

#ifndef NDX_WITH_XAPIAN
const ndx_engine_ops *
ndx_xapian_engine(void)
{
    return NULL;
}
#endif
