package dev.bosun.controlplane.webhook.inject;

import static dev.bosun.controlplane.webhook.inject.SidecarAnnotations.*;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bosun.crd.IstioJson;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Turns an admitted pod into the pod istiod would have made of it: renders the templates it asks
 * for, merges them in, then does what istiod does after the templates (cluster environment,
 * Prometheus merging, probe rewriting, the {@code sidecar.istio.io/status} annotation, container
 * order). Pure apart from reading the mesh's current {@code defaultConfig}.
 */
public final class SidecarInjector {
  /** What came out: the injected pod and what was left out on the way. */
  public record Injection(Pod pod, List<String> warnings) {
    public Injection {
      warnings = List.copyOf(warnings);
    }
  }

  private final InjectionSettings settings;
  private final Supplier<ObjectNode> meshDefaultConfig;
  private final Map<String, InjectionTemplate> templates;
  private final Map<String, String> injectedAnnotations;

  /**
   * @param meshDefaultConfig the mesh's ProxyConfig ({@code defaultConfig}), read per pod
   */
  public SidecarInjector(InjectionSettings settings, Supplier<ObjectNode> meshDefaultConfig) {
    this(settings, meshDefaultConfig, Map.of());
  }

  /**
   * @param injectedAnnotations istiod's {@code sidecarInjectorWebhook.injectedAnnotations}: set on
   *     every injected pod last, over the pod's own and the templates'
   */
  public SidecarInjector(
      InjectionSettings settings,
      Supplier<ObjectNode> meshDefaultConfig,
      Map<String, String> injectedAnnotations) {
    this.injectedAnnotations = Map.copyOf(injectedAnnotations);
    this.settings = requireNonNull(settings, "settings");
    this.meshDefaultConfig = requireNonNull(meshDefaultConfig, "meshDefaultConfig");
    this.templates =
        List.of(new SidecarTemplate(), new GrpcAgentTemplate(), new GatewayTemplate()).stream()
            .collect(Collectors.toMap(InjectionTemplate::name, Function.identity()));
  }

  /**
   * The injected copy of {@code original}, admitted into {@code namespace}.
   *
   * @throws InjectionException when the pod cannot be injected, saying why
   */
  public Injection inject(Pod original, String namespace) throws InjectionException {
    Pod pod = new PodBuilder(original).build();
    if (pod.getSpec() == null || ProxyParts.nullToEmpty(pod.getSpec().getContainers()).isEmpty()) {
      throw new InjectionException("spec.containers: [] (expected: at least one container)");
    }
    Map<String, String> annotations = orEmpty(pod.getMetadata().getAnnotations());
    List<String> problems = TrafficCaptureAnnotations.problems(annotations);
    if (!problems.isEmpty()) {
      throw new InjectionException(String.join("; ", problems));
    }
    List<InjectionTemplate> chosen = chosenTemplates(annotations);
    ObjectNode meshDefault = meshDefaultConfig.get();
    ObjectNode proxyConfig;
    try {
      proxyConfig = ProxyConfigOverlay.merge(meshDefault, annotations.get(PROXY_CONFIG));
    } catch (IllegalArgumentException e) {
      throw new InjectionException(e.getMessage());
    }
    boolean nativeSidecar =
        !"false"
            .equals(
                annotations.getOrDefault(
                    NATIVE_SIDECAR, Boolean.toString(settings.nativeSidecars())));
    List<String> warnings = new ArrayList<>(unsupported(annotations));
    PodFacts facts = PodFacts.of(pod, namespace);
    TemplateInput input =
        new TemplateInput(
            facts,
            settings,
            proxyConfig,
            nativeSidecar,
            TrafficCaptureAnnotations.of(
                facts,
                settings.proxy().traffic(),
                proxyConfig.path("interceptionMode").asText("REDIRECT"),
                settings.proxy().statusPort()));
    Pod merged = pod;
    List<Pod> rendered = new ArrayList<>();
    try {
      for (InjectionTemplate template : chosen) {
        Pod fragment = template.render(input);
        rendered.add(fragment);
        merged = PodOverlay.apply(merged, fragment, nativeSidecar);
      }
    } catch (IllegalArgumentException e) {
      throw new InjectionException(e.getMessage());
    }
    int meshStatusPort = meshDefault.path("statusPort").asInt(15020);
    postProcess(merged, facts, meshStatusPort, input, warnings);
    merged.getMetadata().getAnnotations().put(STATUS, status(rendered));
    // Last, as istiod applies them: they win over everything else.
    merged.getMetadata().getAnnotations().putAll(injectedAnnotations);
    reorder(merged, input.holdApplicationUntilProxyStarts());
    return new Injection(merged, warnings);
  }

  private List<InjectionTemplate> chosenTemplates(Map<String, String> annotations)
      throws InjectionException {
    String names = annotations.getOrDefault(TEMPLATES, SidecarTemplate.NAME);
    List<InjectionTemplate> chosen = new ArrayList<>();
    for (String name : names.split(",")) {
      InjectionTemplate template = templates.get(name.trim());
      if (template == null) {
        throw new InjectionException(
            TEMPLATES
                + ": \""
                + name.trim()
                + "\" (expected: one of "
                + String.join(", ", new TreeMap<>(templates).keySet())
                + "; Bosun builds no other template)");
      }
      chosen.add(template);
    }
    return chosen;
  }

  /** Annotations istiod honours that Bosun does not build: the pod is injected without them. */
  private static List<String> unsupported(Map<String, String> annotations) {
    List<String> warnings = new ArrayList<>();
    for (String name : List.of(BOOTSTRAP_OVERRIDE, PROXY_OVERRIDES)) {
      if (annotations.containsKey(name)) {
        warnings.add(name + ": not built in Bosun; injected without it");
      }
    }
    return warnings;
  }

  private void postProcess(
      Pod pod, PodFacts facts, int meshStatusPort, TemplateInput input, List<String> warnings)
      throws InjectionException {
    if (pod.getMetadata().getAnnotations() == null) {
      pod.getMetadata().setAnnotations(new LinkedHashMap<>());
    }
    if (pod.getMetadata().getLabels() == null) {
      pod.getMetadata().setLabels(new LinkedHashMap<>());
    }
    Container proxy = proxyContainer(pod);
    Map<String, String> clusterEnv = clusterEnv(facts);
    if (proxy != null && !clusterEnv.isEmpty()) {
      List<EnvVar> env = new ArrayList<>(proxy.getEnv());
      env.removeIf(e -> clusterEnv.containsKey(e.getName()));
      clusterEnv.forEach((k, v) -> env.add(ProxyParts.env(k, v)));
      proxy.setEnv(env);
    }
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    try {
      PrometheusMerge.apply(annotations, proxy, meshStatusPort, true, warnings);
    } catch (IllegalArgumentException e) {
      throw new InjectionException(e.getMessage());
    }
    Boolean rewrite = Booleans.parse(annotations.getOrDefault(REWRITE_APP_PROBERS, ""));
    if (proxy != null && (rewrite == null ? settings.rewriteAppProbes() : rewrite)) {
      String probers = ProbeRewriter.appProbers(pod, meshStatusPort);
      if (!probers.isEmpty()) {
        proxy.getEnv().add(ProxyParts.env(ProbeRewriter.ENV, probers));
      }
      ProbeRewriter.rewrite(pod, Integer.parseInt(input.traffic().statusPort().trim()));
    }
    String network = clusterEnv.get("ISTIO_META_NETWORK");
    if (network != null) {
      pod.getMetadata().getLabels().put(LABEL_NETWORK, network);
    }
  }

  /**
   * The cluster and network istiod sets last on the proxy (sorted, replacing the template's): a
   * configured cluster ID, and the pod's network label or the configured network.
   */
  private Map<String, String> clusterEnv(PodFacts facts) {
    Map<String, String> env = new TreeMap<>();
    if (!settings.mesh().clusterId().isEmpty()) {
      env.put("ISTIO_META_CLUSTER_ID", settings.mesh().clusterId());
    }
    String network = facts.firstLabel(settings.mesh().network(), LABEL_NETWORK);
    if (!network.isEmpty()) {
      env.put("ISTIO_META_NETWORK", network);
    }
    return env;
  }

  /** {@code sidecar.istio.io/status}: what the templates added, in Go's JSON of istiod's. */
  private String status(List<Pod> rendered) {
    List<String> inits = new ArrayList<>();
    List<String> containers = new ArrayList<>();
    List<String> volumes = new ArrayList<>();
    for (Pod fragment : rendered) {
      addNames(
          inits, fragment.getSpec().getInitContainers().stream().map(Container::getName).toList());
      addNames(
          containers, fragment.getSpec().getContainers().stream().map(Container::getName).toList());
      addNames(volumes, fragment.getSpec().getVolumes().stream().map(v -> v.getName()).toList());
    }
    ObjectNode status = IstioJson.json().createObjectNode();
    putNames(status, "initContainers", inits);
    putNames(status, "containers", containers);
    putNames(status, "volumes", volumes);
    status.putNull("imagePullSecrets");
    status.put("revision", settings.revisionLabel());
    return status.toString();
  }

  private static void addNames(List<String> into, List<String> names) {
    names.stream().filter(n -> !into.contains(n)).forEach(into::add);
  }

  private static void putNames(ObjectNode status, String field, List<String> names) {
    if (names.isEmpty()) {
      status.putNull(field);
    } else {
      names.forEach(status.putArray(field)::add);
    }
  }

  /**
   * istiod's container order: the proxy last, or first when the app waits for it; as a native
   * sidecar it follows {@code istio-init} ahead of the app's init containers, otherwise {@code
   * istio-init} runs last of them.
   */
  private static void reorder(Pod pod, boolean hold) {
    var spec = pod.getSpec();
    spec.setContainers(move(spec.getContainers(), PROXY_CONTAINER, hold));
    List<Container> inits = ProxyParts.nullToEmpty(spec.getInitContainers());
    if (inits.stream().anyMatch(c -> PROXY_CONTAINER.equals(c.getName()))) {
      for (String name :
          Arrays.asList(
              CORE_DUMP_CONTAINER, PROXY_CONTAINER, VALIDATION_CONTAINER, INIT_CONTAINER)) {
        inits = move(inits, name, true);
      }
    } else {
      inits = move(inits, VALIDATION_CONTAINER, true);
      inits = move(inits, INIT_CONTAINER, false);
      inits = move(inits, CORE_DUMP_CONTAINER, false);
    }
    spec.setInitContainers(inits.isEmpty() && spec.getInitContainers() == null ? null : inits);
  }

  private static List<Container> move(List<Container> containers, String name, boolean first) {
    List<Container> out = new ArrayList<>(containers);
    for (int i = 0; i < out.size(); i++) {
      if (name.equals(out.get(i).getName())) {
        Container c = out.remove(i);
        if (first) {
          out.add(0, c);
        } else {
          out.add(c);
        }
        break;
      }
    }
    return out;
  }

  static Container proxyContainer(Pod pod) {
    for (List<Container> list :
        List.of(
            ProxyParts.nullToEmpty(pod.getSpec().getContainers()),
            ProxyParts.nullToEmpty(pod.getSpec().getInitContainers()))) {
      for (Container c : list) {
        if (PROXY_CONTAINER.equals(c.getName())) {
          return c;
        }
      }
    }
    return null;
  }

  private static Map<String, String> orEmpty(Map<String, String> map) {
    return map == null ? Map.of() : map;
  }

  static String describe(HasMetadata object) {
    var m = object.getMetadata();
    String name =
        m.getName() != null && !m.getName().isEmpty() ? m.getName() : m.getGenerateName() + "*";
    return "Pod " + m.getNamespace() + "/" + name;
  }
}
