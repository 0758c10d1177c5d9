namespace Engine.Layers;

/// <summary>
/// A network whose parameters fall into stages from input to output (a ResNet's stem and its four
/// stages of residual blocks), so fine-tuning can unfreeze the last N of them: fastai's parameter
/// groups, Keras' "unfreeze the top layers".
/// </summary>
public interface IStaged
{
    /// <summary>The parameter groups, first stage (nearest the input) first; every parameter in exactly one.</summary>
    IReadOnlyList<IReadOnlyList<Parameter>> Stages();
}
