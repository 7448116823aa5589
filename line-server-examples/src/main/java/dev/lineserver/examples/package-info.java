/**
 * Runnable examples of line-server: {@link dev.lineserver.examples.VehicleService} ingests vehicle
 * positions over TCP, {@link dev.lineserver.examples.FleetSimulator} sends them.
 */
@NullMarked
package dev.lineserver.examples;

import org.jspecify.annotations.NullMarked;
