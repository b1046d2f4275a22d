package dev.kavach.egress;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Closes connections that ran out of time. Unix domain socket channels have no read timeout in the
 * JDK, so instead of socket timeouts every connection carries a deadline, and one thread per proxy
 * closes those past it, which unblocks whichever thread was reading or writing.
 */
final class Watchdog implements Runnable {
  private static final long TICK_MILLIS = 200;

  /** Something with a deadline that can be closed from another thread. */
  interface Guarded {
    /** The {@link System#nanoTime()} after which it is closed. */
    long deadline();

    /** Closes it; called at most once by the watchdog. */
    void expire();
  }

  private final Set<Guarded> guarded = ConcurrentHashMap.newKeySet();
  private volatile boolean running = true;

  void add(Guarded g) {
    guarded.add(g);
  }

  void remove(Guarded g) {
    guarded.remove(g);
  }

  void stop() {
    running = false;
  }

  @Override
  public void run() {
    while (running) {
      long now = System.nanoTime();
      List<Guarded> expired = new ArrayList<>();
      for (Guarded g : guarded) {
        if (now - g.deadline() > 0) {
          expired.add(g);
        }
      }
      for (Guarded g : expired) {
        guarded.remove(g);
        g.expire();
      }
      try {
        Thread.sleep(TICK_MILLIS);
      } catch (InterruptedException e) {
        return;
      }
    }
  }
}
