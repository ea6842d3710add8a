package dev.bosun.controlplane.xds.policy;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.helpers.MessageFormatter;

/**
 * Warnings about config that Bosun translates with a loss (a field left out, a rule dropped).
 * Generators run for every proxy on every push, so the same warning would repeat thousands of
 * times; each distinct message is logged at WARN once per {@link #REPEAT_AFTER}, and at DEBUG
 * otherwise.
 */
public final class ConfigWarnings {
  static final Duration REPEAT_AFTER = Duration.ofMinutes(10);

  private static final Cache<String, Boolean> RECENT =
      CacheBuilder.newBuilder().expireAfterWrite(REPEAT_AFTER).maximumSize(10_000).build();

  private ConfigWarnings() {}

  /** Logs {@code format} (slf4j style) with {@code args}, at WARN unless said recently. */
  public static void warn(Logger log, String format, Object... args) {
    String message = MessageFormatter.arrayFormat(format, args).getMessage();
    if (RECENT.asMap().putIfAbsent(message, Boolean.TRUE) == null) {
      log.warn("{}", message);
    } else {
      log.debug("{}", message);
    }
  }
}
