using System.Runtime.CompilerServices;

namespace Engine.Kernels;

/// <summary>
/// Plugs the ILGPU backend into the core: when this assembly loads (the core loads it on the first
/// question about devices), its devices become <c>Device.Cuda</c>, <c>Device.OpenCL</c> and
/// <c>Device.IlgpuCpu</c>.
/// </summary>
public sealed class IlgpuProvider : IAcceleratorProvider
{
    /// <summary>Registers the ILGPU devices with <see cref="Accelerators"/>; called once when the assembly loads.</summary>
#pragma warning disable CA2255 // a library registering itself on load is the point: referencing the package is the switch
    [ModuleInitializer]
#pragma warning restore CA2255
    public static void Register() => Accelerators.Register(new IlgpuProvider());

    /// <inheritdoc/>
    public int Count(IlgpuKind kind) => IlgpuBackend.Count(kind);

    /// <inheritdoc/>
    public IBackend Get(IlgpuKind kind, int index) => IlgpuBackend.Get(kind, index);
}
