/**
 * The engine behind {@link dev.lineserver.LineServer}: acceptor, I/O loops, connections, line
 * buffers. Not exported by the module; nothing here is API.
 */
@NullMarked
package dev.lineserver.internal;

import org.jspecify.annotations.NullMarked;
