package dev.bosun.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Time from creating or updating a VirtualService in the API server to the first RPC that followed
 * it, over every such change the scenarios make. Reported, never asserted: these machines are
 * shared and their timing is noise.
 */
final class ApplyTimings {
  private static final List<Duration> TIMES = new ArrayList<>();

  private ApplyTimings() {}

  static synchronized void record(Duration time) {
    TIMES.add(time);
  }

  /** Prints the median and appends the samples to {@code target/e2e-apply-to-rpc.txt}. */
  static synchronized void report() throws IOException {
    if (TIMES.isEmpty()) {
      return;
    }
    List<Long> millis = TIMES.stream().map(Duration::toMillis).sorted().toList();
    long median = millis.get(millis.size() / 2);
    String line =
        "apply->first following RPC: n=%d median=%d ms min=%d ms max=%d ms samples=%s%n"
            .formatted(millis.size(), median, millis.get(0), millis.get(millis.size() - 1), millis);
    System.out.print(line);
    Path out = Path.of("target", "e2e-apply-to-rpc.txt");
    Files.createDirectories(out.getParent());
    Files.writeString(
        out,
        line,
        java.nio.file.StandardOpenOption.CREATE,
        java.nio.file.StandardOpenOption.APPEND);
    TIMES.clear();
  }
}
