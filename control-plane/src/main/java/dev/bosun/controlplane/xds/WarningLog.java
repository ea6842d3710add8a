package dev.bosun.controlplane.xds;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the warnings generators return ({@link dev.bosun.controlplane.xds.scope.Generated}) are
 * logged. Every push hands the same warnings back for every proxy that uses the config, so each
 * distinct message is logged at WARN once per {@code repeatAfter}, and at DEBUG otherwise.
 */
public final class WarningLog {
  /** How long a message stays quiet after it was logged at WARN, unless told otherwise. */
  public static final Duration REPEAT_AFTER = Duration.ofMinutes(10);

  private final Logger log;
  private final Cache<String, Boolean> recent;

  /** Logs to this class's logger, repeating a message after {@link #REPEAT_AFTER}. */
  public WarningLog() {
    this(LoggerFactory.getLogger(WarningLog.class), REPEAT_AFTER);
  }

  public WarningLog(Logger log, Duration repeatAfter) {
    this.log = log;
    this.recent =
        CacheBuilder.newBuilder().expireAfterWrite(repeatAfter).maximumSize(10_000).build();
  }

  /** Logs each of {@code warnings}, at WARN unless said within the last {@code repeatAfter}. */
  public void report(List<String> warnings) {
    for (String message : warnings) {
      if (recent.asMap().putIfAbsent(message, Boolean.TRUE) == null) {
        log.warn("{}", message);
      } else {
        log.debug("{}", message);
      }
    }
  }
}
