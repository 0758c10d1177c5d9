namespace Engine.Optim;

/// <summary>
/// One hyperparameter an optimizer takes: its name (PyTorch's, as in the state dict:
/// <c>lr</c>, <c>weight_decay</c>, <c>momentum</c>, <c>beta1</c>, …), its default, and the values it
/// accepts. Flags (<c>nesterov</c>, <c>amsgrad</c>, <c>centered</c>) are stored as 0 or 1, so every
/// hyperparameter travels in the state dict as a rank-0 float64 tensor.
/// </summary>
/// <param name="Name">The key in a <see cref="ParamGroup"/> and in the state dict.</param>
/// <param name="DefaultValue">The value a group gets when it does not set this one.</param>
/// <param name="Min">The smallest accepted value (inclusive).</param>
/// <param name="Max">The largest accepted value; inclusive unless <paramref name="MaxExclusive"/>.</param>
/// <param name="MaxExclusive">True when <paramref name="Max"/> itself is not accepted (β &lt; 1).</param>
/// <param name="IsFlag">True for a boolean stored as 0 or 1.</param>
public sealed record Hyperparameter(
    string Name, double DefaultValue, double Min = 0, double Max = double.PositiveInfinity,
    bool MaxExclusive = false, bool IsFlag = false)
{
    /// <summary>A flag (0 = false, 1 = true).</summary>
    public static Hyperparameter Flag(string name, bool defaultValue) => new(name, defaultValue ? 1 : 0, 0, 1, IsFlag: true);

    /// <summary>Null when <paramref name="value"/> is accepted; otherwise the rule it breaks, e.g. <c>must be in [0, 1)</c>.</summary>
    public string? Check(double value)
    {
        if (IsFlag) return value is 0 or 1 ? null : "must be 0 or 1 (false or true)";
        bool ok = double.IsFinite(value) && value >= Min && (MaxExclusive ? value < Max : value <= Max);
        if (ok) return null;
        if (double.IsPositiveInfinity(Max)) return $"must be a finite number >= {Min}";
        return $"must be in [{Min}, {Max}{(MaxExclusive ? ")" : "]")}";
    }
}
