import * as tf from '@tensorflow/tfjs-core';
import { lionUpdate } from './dense-lion.ts';
import { LION_DEFAULTS } from './lion-config.ts';

/** A named tensor, as tfjs optimizers take and return them. */
type NamedTensor = { name: string; tensor: tf.Tensor };

/**
 * Lion as a tf.train-style optimizer (Chen et al. 2023, Algorithm 2): use it like
 * tf.train.adam(): `opt.minimize(() => loss)` or `opt.applyGradients({name: grad})`.
 * Registered with tf.serialization as class "Lion", so getConfig()/fromConfig() and
 * getWeights()/setWeights() (iterations + one momentum per variable, named
 * `<variable>/lion_m`) round-trip like tfjs' own optimizers. The trainer itself uses
 * DenseLion (per-variable groups and schedules); both share lionUpdate().
 */
export class LionOptimizer extends tf.Optimizer {
  static get className(): string {
    return 'Lion';
  }
  private momenta: { originalName: string; variable: tf.Variable }[] = [];

  constructor(
    readonly learningRate: number,
    readonly beta1 = LION_DEFAULTS.beta1,
    readonly beta2 = LION_DEFAULTS.beta2,
    readonly weightDecay = 0,
  ) {
    super();
  }

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((g) => g.name)
      : Object.keys(variableGradients);
    names.forEach((name, i) => {
      const value = tf.engine().registeredVariables[name];
      const grad = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
      if (!value || grad == null) return;
      if (this.momenta[i] == null)
        this.momenta[i] = {
          originalName: `${name}/lion_m`,
          variable: tf.tidy(() => tf.variable(tf.zerosLike(value), false)),
        };
      tf.tidy(() =>
        lionUpdate(value, this.momenta[i].variable, grad, {
          lr: this.learningRate,
          beta1: this.beta1,
          beta2: this.beta2,
          weightDecay: this.weightDecay,
        }),
      );
    });
    this.incrementIterations();
  }

  override dispose(): void {
    tf.dispose(this.momenta.map((m) => m.variable));
  }

  override async getWeights(): Promise<NamedTensor[]> {
    return [await this.saveIterations(), ...this.momenta.map((m) => ({ name: m.originalName, tensor: m.variable }))];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    tf.dispose(this.momenta.map((m) => m.variable)); // the momenta being replaced
    this.momenta = rest.map((w) => ({ originalName: w.name, variable: tf.variable(w.tensor, false) }));
  }

  getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, weightDecay: this.weightDecay };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new (cls as unknown as typeof LionOptimizer)(
      config.learningRate as number,
      config.beta1 as number,
      config.beta2 as number,
      config.weightDecay as number,
    ) as unknown as T;
  }
}

tf.serialization.registerClass(LionOptimizer);
