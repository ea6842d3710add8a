package dev.bosun.controlplane.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bosun.controlplane.xds.policy.ConfigWarnings;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

/** A warning repeated on every push and for every proxy is logged at WARN once, then at DEBUG. */
class ConfigWarningsTest {

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
    String unique = "reviews-" + System.nanoTime();

    ConfigWarnings.warn(log, "{}: header operations left out", unique);
    ConfigWarnings.warn(log, "{}: header operations left out", unique);
    ConfigWarnings.warn(log, "{}: mirrors left out", unique);

    assertThat(lines)
        .containsExactly(
            "WARN " + unique + ": header operations left out",
            "DEBUG " + unique + ": header operations left out",
            "WARN " + unique + ": mirrors left out");
  }
}
