package dev.lineserver.internal;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/** Calls the user's listener so that a listener that throws never breaks the thread calling it. */
final class Events {
  static final Logger LOGGER = System.getLogger("dev.lineserver");

  private Events() {}

  static void report(Runnable event) {
    try {
      event.run();
    } catch (RuntimeException e) {
      LOGGER.log(Level.WARNING, "LineServerListener threw; ignored", e);
    }
  }
}
