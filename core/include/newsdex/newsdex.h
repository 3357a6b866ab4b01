/*
 * newsdex/newsdex.h - the whole public API of libnewsdex.
 */
#ifndef NEWSDEX_NEWSDEX_H
#define NEWSDEX_NEWSDEX_H

#include "newsdex/status.h"
#include "newsdex/article.h"
#include "newsdex/analyze.h"
#include "newsdex/ingest.h"
#include "newsdex/query.h"
#include "newsdex/index.h"

#define NDX_VERSION_STRING "0.1.0"

#endif
