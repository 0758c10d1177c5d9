namespace Engine;

/// <summary>
/// Disposes, when it ends, every tensor created on this thread while it was the innermost scope,
/// except those passed to <see cref="Keep"/>. Scopes nest:
/// <code>
/// using (var scope = Tensor.Scope())
/// {
///     var h = x.MatMul(w).Relu();          // intermediates are owned by the scope
///     result = scope.Keep(h.Sum());          // survives; owned by the enclosing scope, if any
/// }
/// </code>
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? t_current;
    private readonly TensorScope? _parent;
    private readonly List<Tensor> _owned = [];
    private bool _disposed;

    internal TensorScope()
    {
        _parent = t_current;
        t_current = this;
    }

    internal static void Register(Tensor t)
    {
        if (t_current is { } scope)
        {
            scope._owned.Add(t);
            t.OwningScope = scope;
        }
    }

    /// <summary>Removes <paramref name="t"/> from this scope (handing it to the enclosing scope, if any) and returns it.</summary>
    public Tensor Keep(Tensor t)
    {
        if (t.OwningScope == this && _owned.Remove(t))
        {
            t.OwningScope = _parent;
            _parent?._owned.Add(t);
        }
        return t;
    }

    /// <summary>
    /// Takes <paramref name="t"/> out of whatever scope owns it: no scope will dispose it, its owner
    /// (for example a parameter holding its gradient) must. Returns it.
    /// </summary>
    public static Tensor Escape(Tensor t)
    {
        if (t.OwningScope is { } scope)
        {
            scope._owned.Remove(t);
            t.OwningScope = null;
        }
        return t;
    }

    /// <summary>Disposes the tensors this scope still owns and makes the enclosing scope current again.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (t_current == this) t_current = _parent;
        foreach (var t in _owned) t.Dispose();
        _owned.Clear();
    }
}
