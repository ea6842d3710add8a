package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

/** A warning repeated on every push and for every proxy is logged at WARN once, then at DEBUG. */
class WarningLogTest {

  /** A Logger that records "LEVEL message" for warn and debug calls. */
  private static Logger recording(List<String> lines) {
    return (Logger)
        Proxy.newProxyInstance(
            Logger.class.getClassLoader(),
            new Class<?>[] {Logger.class},
            (proxy, method, args) -> {
              if ((method.getName().equals("warn") || method.getName().equals("debug"))
                  && args != null
                  && args.length == 2) {
                lines.add(method.getName().toUpperCase() + " " + args[1]);
              }
              return method.getReturnType() == boolean.class ? Boolean.TRUE : null;
            });
  }

  @Test
  void sameMessage_warnsOnce_thenDebug_otherMessagesStillWarn() {
    List<String> lines = new ArrayList<>();
    Logger log = recording(lines);
    WarningLog warnings = new WarningLog(log, Duration.ofMinutes(10));

    warnings.report(List.of("reviews: header operations left out"));
    warnings.report(List.of("reviews: header operations left out", "reviews: mirrors left out"));

    assertThat(lines)
        .containsExactly(
            "WARN reviews: header operations left out",
            "DEBUG reviews: header operations left out",
            "WARN reviews: mirrors left out");
  }
}
