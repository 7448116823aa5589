/**
 * The line-server API: start a server with {@link dev.lineserver.LineServer#builder()}, receive
 * lines in a {@link dev.lineserver.LineSink}, observe the server with a {@link
 * dev.lineserver.LineServerListener}.
 */
@NullMarked
package dev.lineserver;

import org.jspecify.annotations.NullMarked;
