package dev.bosun.controlplane.source;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bosun.controlplane.config.ConfigKey;
import dev.bosun.controlplane.mesh.MeshEvents;
import dev.bosun.crd.IstioJson;
import dev.bosun.crd.IstioKind;
import dev.bosun.crd.yaml.YamlDocument;
import dev.bosun.crd.yaml.YamlDocuments;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local mode's source: reads Kubernetes and Istio YAML from a directory (recursively), feeds
 * the same events the informers would, and rescans when the file system reports a change (and on a
 * poll interval). A bad document is reported with its file and line and skipped; the other
 * documents keep working. When a file holds a malformed document, objects that file defined before
 * are kept (the broken document may be one of them) until the file parses again.
 */
public final class LocalDirectorySource implements AutoCloseable {
  public static final String NAME = "directory";
  private static final Logger log = LoggerFactory.getLogger(LocalDirectorySource.class);

  /** How long after a reported change the rescan runs, so that one save is one rescan. */
  private static final Duration WATCH_SETTLE = Duration.ofMillis(20);

  private final Path directory;
  private final MeshEvents events;
  private final Map<Path, FileState> files = new HashMap<>();
  private final Map<LocalObject, Instant> firstSeen = new HashMap<>();
  private final java.time.Clock clock;
  private Instant lastStamp = Instant.EPOCH;
  private ScheduledExecutorService scanner;
  private WatchService watcher;
  private final AtomicBoolean rescanPending = new AtomicBoolean();

  /** A known object of one file: its identity and the document last delivered for it. */
  private record LocalObject(String apiVersion, String kind, String namespace, String name) {}

  private record FileState(long modified, long size, Map<LocalObject, JsonNode> objects) {}

  public LocalDirectorySource(Path directory, MeshEvents events) {
    this(directory, events, java.time.Clock.systemUTC());
  }

  /** {@code clock} stamps objects that carry no creation time when they are first seen. */
  public LocalDirectorySource(Path directory, MeshEvents events, java.time.Clock clock) {
    this.directory = directory;
    this.events = events;
    this.clock = clock;
  }

  /**
   * Scans once, reports the initial state as synced, then rescans as soon as the file system
   * reports a change under the directory, and every {@code interval} in any case (for file systems
   * that report none).
   */
  public LocalDirectorySource start(Duration interval) {
    scan();
    events.synced(NAME);
    scanner =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread thread = new Thread(r, "bosun-directory-scan");
              thread.setDaemon(true);
              return thread;
            });
    scanner.scheduleWithFixedDelay(
        this::safeScan, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    watch();
    return this;
  }

  /**
   * Watches every directory under the directory; each batch of events schedules one rescan shortly
   * after (an editor's save or a {@code kubectl cp} is several events). Without a watch service the
   * interval's rescans alone pick changes up.
   */
  private void watch() {
    try {
      watcher = directory.getFileSystem().newWatchService();
      registerTree(directory);
    } catch (IOException | UnsupportedOperationException e) {
      log.info("not watching {} ({}); rescanning on the poll interval only", directory, e);
      closeWatcher();
      return;
    }
    Thread thread = new Thread(this::takeEvents, "bosun-directory-watch");
    thread.setDaemon(true);
    thread.start();
  }

  private void registerTree(Path root) throws IOException {
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes)
              throws IOException {
            dir.register(
                watcher,
                StandardWatchEventKinds.ENTRY_CREATE,
                StandardWatchEventKinds.ENTRY_DELETE,
                StandardWatchEventKinds.ENTRY_MODIFY);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) {
            return FileVisitResult.CONTINUE; // the rescan reports what cannot be read
          }
        });
  }

  private void takeEvents() {
    try {
      while (true) {
        WatchKey key = watcher.take();
        Path dir = (Path) key.watchable();
        for (WatchEvent<?> event : key.pollEvents()) {
          if (event.context() instanceof Path name
              && event.kind() == StandardWatchEventKinds.ENTRY_CREATE
              && Files.isDirectory(dir.resolve(name), LinkOption.NOFOLLOW_LINKS)) {
            registerTree(dir.resolve(name));
          }
        }
        key.reset();
        if (rescanPending.compareAndSet(false, true)) {
          scanner.schedule(
              () -> {
                rescanPending.set(false);
                safeScan();
              },
              WATCH_SETTLE.toMillis(),
              TimeUnit.MILLISECONDS);
        }
      }
    } catch (InterruptedException | java.nio.file.ClosedWatchServiceException e) {
      // closed
    } catch (IOException | java.util.concurrent.RejectedExecutionException e) {
      log.warn("stopped watching {} ({}); rescanning on the poll interval only", directory, e);
    }
  }

  private void closeWatcher() {
    if (watcher != null) {
      try {
        watcher.close();
      } catch (IOException e) {
        log.debug("closing the watch of {}", directory, e);
      }
    }
  }

  private void safeScan() {
    try {
      scan();
    } catch (RuntimeException e) {
      log.error("scanning {} failed", directory, e);
    }
  }

  /**
   * Reads changed, new and deleted files and delivers what changed, files in path order. A rescan
   * that finds nothing changed costs one attribute read per file: it runs every poll interval over
   * directories of thousands of manifests.
   */
  public synchronized void scan() {
    Map<Path, long[]> seen;
    try {
      seen = manifests();
    } catch (IOException | java.io.UncheckedIOException e) {
      log.error("cannot read {}: {}", directory, e.getMessage());
      return;
    }
    List<Path> gone = new ArrayList<>();
    for (Path known : files.keySet()) {
      if (!seen.containsKey(known)) {
        gone.add(known);
      }
    }
    Collections.sort(gone);
    for (Path path : gone) {
      FileState state = files.remove(path);
      log.info("{}: removed", path);
      state.objects().forEach((object, document) -> delete(object, document, path.toString()));
    }
    List<Path> changed = new ArrayList<>();
    for (Map.Entry<Path, long[]> entry : seen.entrySet()) {
      long[] stat = entry.getValue();
      FileState previous = files.get(entry.getKey());
      if (stat != null
          && (previous == null || previous.modified() != stat[0] || previous.size() != stat[1])) {
        changed.add(entry.getKey());
      }
    }
    Collections.sort(changed);
    for (Path path : changed) {
      read(path, seen.get(path), files.get(path));
    }
  }

  /**
   * The manifests under the directory (symbolic links to files followed) with their modification
   * time and size; null for one whose attributes could not be read, which keeps what it defined.
   */
  private Map<Path, long[]> manifests() throws IOException {
    Map<Path, long[]> seen = new HashMap<>();
    Files.walkFileTree(
        directory,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
            if (!isManifest(file)) {
              return FileVisitResult.CONTINUE;
            }
            BasicFileAttributes target = attributes;
            if (attributes.isSymbolicLink()) {
              try {
                target = Files.readAttributes(file, BasicFileAttributes.class);
              } catch (IOException e) {
                return FileVisitResult.CONTINUE; // a dangling link is no file
              }
            }
            if (target.isRegularFile()) {
              seen.put(
                  file,
                  new long[] {target.lastModifiedTime().to(TimeUnit.NANOSECONDS), target.size()});
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
            if (file.equals(directory) || !isManifest(file)) {
              throw e; // an unreadable directory: what is under it is unknown, not gone
            }
            if (files.containsKey(file)) {
              seen.put(file, null);
            }
            return FileVisitResult.CONTINUE;
          }
        });
    return seen;
  }

  private void read(Path path, long[] stat, FileState previous) {
    String text;
    try {
      text = new String(Files.readAllBytes(path), StandardCharsets.UTF_8);
    } catch (IOException e) {
      log.error("{}: cannot read: {}", path, e.getMessage());
      return;
    }
    Map<LocalObject, JsonNode> objects = new LinkedHashMap<>();
    boolean malformed = false;
    for (YamlDocument document : YamlDocuments.parse(path.toString(), text)) {
      if (document.error().isPresent()) {
        log.error("{}: {} (skipped)", document.location(), document.error().get());
        malformed = true;
        continue;
      }
      JsonNode tree = document.tree().get();
      LocalObject object = identify(tree);
      if (object == null) {
        log.error(
            "{}: not a Kubernetes object: needs apiVersion, kind and metadata.name (skipped)",
            document.location());
        continue;
      }
      objects.put(object, tree);
      JsonNode before = previous == null ? null : previous.objects().get(object);
      if (!Objects.equals(before, tree)) {
        upsert(object, tree, document.location());
      }
    }
    if (previous != null) {
      for (Map.Entry<LocalObject, JsonNode> old : previous.objects().entrySet()) {
        if (!objects.containsKey(old.getKey())) {
          if (malformed) {
            objects.put(old.getKey(), old.getValue());
          } else {
            delete(old.getKey(), old.getValue(), path.toString());
          }
        }
      }
    }
    files.put(path, new FileState(stat[0], stat[1], objects));
  }

  private void upsert(LocalObject object, JsonNode document, String origin) {
    document = withCreationTime(object, document);
    if (IstioKind.isIstioGroup(object.apiVersion())) {
      events.istioUpserted(document, origin);
      return;
    }
    Class<? extends HasMetadata> type = kubernetesType(object);
    if (type == null) {
      log.debug(
          "{}: {} {} is not used by Bosun (skipped)", origin, object.apiVersion(), object.kind());
      return;
    }
    try {
      HasMetadata resource = IstioJson.json().treeToValue(document, type);
      if (!object.namespace().isEmpty() && resource.getMetadata() != null) {
        // As kubectl apply does: a namespaced object that names no namespace is in "default".
        resource.getMetadata().setNamespace(object.namespace());
      }
      events.kubernetesUpserted(resource, origin);
    } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
      log.error(
          "{}: {} {}/{} cannot be read: {} (skipped)",
          origin,
          object.kind(),
          object.namespace(),
          object.name(),
          e instanceof com.fasterxml.jackson.core.JsonProcessingException json
              ? json.getOriginalMessage()
              : e.getMessage());
    }
  }

  /**
   * {@code document} with a creation time, as the API server would give it: when it was first seen
   * (the first scan's objects in path and document order), kept across edits and rescans, so that a
   * new object never takes precedence over one that was there before it.
   */
  private JsonNode withCreationTime(LocalObject object, JsonNode document) {
    JsonNode metadata = document.path("metadata");
    if (!metadata.isObject() || metadata.hasNonNull("creationTimestamp")) {
      return document;
    }
    Instant created =
        firstSeen.computeIfAbsent(
            object,
            o -> {
              // Strictly increasing, one second apart (the API server's resolution), so objects
              // of one scan keep the order they were read in.
              Instant now = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
              lastStamp = now.isAfter(lastStamp) ? now : lastStamp.plusSeconds(1);
              return lastStamp;
            });
    com.fasterxml.jackson.databind.node.ObjectNode copy =
        (com.fasterxml.jackson.databind.node.ObjectNode) document.deepCopy();
    ((com.fasterxml.jackson.databind.node.ObjectNode) copy.get("metadata"))
        .put("creationTimestamp", created.toString());
    return copy;
  }

  private void delete(LocalObject object, JsonNode document, String origin) {
    firstSeen.remove(object);
    var kind = IstioKind.of(object.apiVersion(), object.kind());
    if (kind.isPresent()) {
      events.istioDeleted(new ConfigKey(kind.get(), object.namespace(), object.name()), origin);
      return;
    }
    Class<? extends HasMetadata> type = kubernetesType(object);
    if (type != null) {
      try {
        events.kubernetesDeleted(IstioJson.json().treeToValue(document, type), origin);
      } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
        log.debug("{}: {} was never applied", origin, object);
      }
    }
  }

  private static Class<? extends HasMetadata> kubernetesType(LocalObject object) {
    return switch (object.apiVersion() + " " + object.kind()) {
      case "v1 Service" -> Service.class;
      case "discovery.k8s.io/v1 EndpointSlice" -> EndpointSlice.class;
      case "v1 Pod" -> Pod.class;
      case "v1 Node" -> Node.class;
      case "v1 Namespace" -> Namespace.class;
      case "v1 Secret" -> io.fabric8.kubernetes.api.model.Secret.class;
      default -> null;
    };
  }

  private static LocalObject identify(JsonNode tree) {
    if (!tree.isObject()) {
      return null;
    }
    String apiVersion = tree.path("apiVersion").asText("");
    String kind = tree.path("kind").asText("");
    String name = tree.path("metadata").path("name").asText("");
    if (apiVersion.isEmpty() || kind.isEmpty() || name.isEmpty()) {
      return null;
    }
    String namespace = tree.path("metadata").path("namespace").asText("");
    boolean clusterScoped = kind.equals("Namespace") || kind.equals("Node");
    return new LocalObject(
        apiVersion, kind, clusterScoped ? "" : namespace.isEmpty() ? "default" : namespace, name);
  }

  private static boolean isManifest(Path path) {
    String name = path.getFileName().toString();
    return !name.startsWith(".")
        && (name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json"));
  }

  @Override
  public void close() {
    closeWatcher();
    if (scanner != null) {
      scanner.shutdownNow();
    }
  }
}
