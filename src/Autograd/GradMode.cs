namespace Engine;

/// <summary>
/// Thread-local switches of the autograd engine: whether ops are recorded into the graph, and
/// whether anomaly detection is on.
/// </summary>
public static class GradMode
{
    [ThreadStatic] private static bool t_disabled;
    [ThreadStatic] private static bool t_anomaly;

    /// <summary>True when operations on variables that require gradients are recorded.</summary>
    public static bool IsEnabled => !t_disabled;

    /// <summary>True inside <see cref="DetectAnomaly"/>.</summary>
    public static bool IsAnomalyDetectionEnabled => t_anomaly;

    /// <summary>Stops recording until the returned scope is disposed (inference, parameter updates).</summary>
    public static IDisposable NoGrad() => new Switch(enabled: false);

    /// <summary>Records again inside a <see cref="NoGrad"/> region, until the returned scope is disposed.</summary>
    public static IDisposable EnableGrad() => new Switch(enabled: true);

    /// <summary>
    /// Until the returned scope is disposed, the first NaN or infinity produced by a forward op or by a
    /// backward formula throws <see cref="AnomalyException"/>, naming the function, its input shapes
    /// and the source file and line where the forward op was called. Slow: every result is checked.
    /// </summary>
    public static IDisposable DetectAnomaly() => new AnomalySwitch();

    internal static IDisposable Set(bool enabled) => new Switch(enabled);

    private sealed class Switch : IDisposable
    {
        private readonly bool _previous;
        private bool _done;

        public Switch(bool enabled)
        {
            _previous = t_disabled;
            t_disabled = !enabled;
        }

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            t_disabled = _previous;
        }
    }

    private sealed class AnomalySwitch : IDisposable
    {
        private readonly bool _previous = t_anomaly;
        private bool _done;

        public AnomalySwitch() => t_anomaly = true;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            t_anomaly = _previous;
        }
    }
}
