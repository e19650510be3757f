// SPDX-License-Identifier: GPL-2.0
/*
 * Instantiate the klp trace events defined in tracepoints/klp_trace.h.
 * Only this file defines CREATE_TRACE_POINTS.
 */
#define CREATE_TRACE_POINTS
#include "klp_trace.h"
