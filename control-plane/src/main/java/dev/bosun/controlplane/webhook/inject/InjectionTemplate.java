package dev.bosun.controlplane.webhook.inject;

import io.fabric8.kubernetes.api.model.Pod;

/**
 * One of istiod's named injection templates ({@code inject.istio.io/templates}): the pod fragment
 * merged into the admitted pod. Pure: the same input renders the same fragment.
 */
public interface InjectionTemplate {
  /** The name pods select it by. */
  String name();

  /** The fragment: labels, annotations, containers, init containers and volumes to merge in. */
  Pod render(TemplateInput input);
}
