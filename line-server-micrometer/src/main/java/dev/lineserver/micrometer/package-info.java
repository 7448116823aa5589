/**
 * Micrometer meters for a {@link dev.lineserver.LineServer}: bind a {@link
 * dev.lineserver.micrometer.LineServerMetrics} to a {@code MeterRegistry}.
 */
@NullMarked
package dev.lineserver.micrometer;

import org.jspecify.annotations.NullMarked;
