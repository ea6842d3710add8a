package dev.bosun.controlplane.meshconfig;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mesh config of {@code bosun local}: a MeshConfig YAML file (what istiod reads from {@code
 * --meshConfig}), read at start and re-read on each poll when its content changed. A file that
 * vanishes means Istio's defaults, like a deleted ConfigMap.
 */
public final class MeshConfigFile implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(MeshConfigFile.class);

  private final Path path;
  private final MeshConfigStore store;
  private final ScheduledExecutorService poller =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread thread = new Thread(r, "bosun-mesh-config-file");
            thread.setDaemon(true);
            return thread;
          });
  private String last;
  private boolean read;

  public MeshConfigFile(Path path, MeshConfigStore store) {
    this.path = requireNonNull(path, "path");
    this.store = requireNonNull(store, "store");
  }

  /**
   * Applies the file now, then polls it every {@code interval}.
   *
   * @throws IOException when the file cannot be read at start
   */
  public MeshConfigFile start(Duration interval) throws IOException {
    String text = Files.readString(path, StandardCharsets.UTF_8);
    apply(text);
    poller.scheduleWithFixedDelay(
        this::poll, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  private void poll() {
    try {
      apply(Files.readString(path, StandardCharsets.UTF_8));
    } catch (NoSuchFileException e) {
      apply(null);
    } catch (IOException | RuntimeException e) {
      log.warn("cannot read mesh config file {}: {}", path, e.getMessage());
    }
  }

  private synchronized void apply(String text) {
    if (read && Objects.equals(text, last)) {
      return;
    }
    read = true;
    last = text;
    store.update(text, text == null ? "file " + path + " (deleted)" : "file " + path);
  }

  @Override
  public void close() {
    poller.shutdownNow();
  }
}
