using System.Reflection;
using System.Runtime.CompilerServices;

namespace Engine.Kernels;

/// <summary>The kinds of ILGPU accelerator the engine drives (through the <c>Engine.Ilgpu</c> package).</summary>
public enum IlgpuKind
{
    /// <summary>NVIDIA GPUs through CUDA.</summary>
    Cuda,
    /// <summary>OpenCL devices.</summary>
    OpenCL,
    /// <summary>ILGPU's CPU accelerator (an emulator of the GPU execution model, for tests).</summary>
    Cpu,
}

/// <summary>What a GPU backend package supplies: its devices, and a backend for each.</summary>
public interface IAcceleratorProvider
{
    /// <summary>How many devices of <paramref name="kind"/> this machine has (0 when the driver is missing).</summary>
    int Count(IlgpuKind kind);

    /// <summary>The backend of device <paramref name="index"/> of <paramref name="kind"/>, created on first use.</summary>
    IBackend Get(IlgpuKind kind, int index);
}

/// <summary>
/// Where the CPU core finds GPU backends. The core (this assembly and everything up to Data) is pure
/// managed code with no GPU compiler in it; the <c>Engine.Ilgpu</c> package adds CUDA, OpenCL and
/// ILGPU's CPU emulator. Referencing it is enough: the first question about devices loads it when it
/// sits beside the app, and it registers itself. An app can also call <see cref="Register"/> itself.
/// </summary>
public static class Accelerators
{
    /// <summary>The assembly that holds the ILGPU backend.</summary>
    public const string IlgpuAssemblyName = "Engine.Ilgpu";

    private static readonly object s_lock = new();
    private static IAcceleratorProvider? s_provider;
    private static bool s_searched;

    /// <summary>Makes <paramref name="provider"/> the source of GPU devices (the last registration wins).</summary>
    public static void Register(IAcceleratorProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        lock (s_lock) s_provider = provider;
    }

    /// <summary>The registered provider, loading <c>Engine.Ilgpu</c> on first use when the app carries it; null when it does not.</summary>
    public static IAcceleratorProvider? Provider
    {
        get
        {
            lock (s_lock)
            {
                if (s_provider is null && !s_searched)
                {
                    s_searched = true;
                    TryLoad();
                }
                return s_provider;
            }
        }
    }

    /// <summary>How many devices of <paramref name="kind"/> are available (0 without a GPU backend).</summary>
    public static int Count(IlgpuKind kind) => Provider?.Count(kind) ?? 0;

    /// <summary>The backend of a device; a <see cref="DeviceException"/> when no GPU backend is referenced.</summary>
    public static IBackend Get(IlgpuKind kind, int index) =>
        (Provider ?? throw new DeviceException(
            $"{kind} device {index}: GPU devices come with the {IlgpuAssemblyName} package, which this app does not reference")).Get(kind, index);

    // The lock is held: the module initializer of Engine.Ilgpu calls Register on this thread (re-entrant).
    private static void TryLoad()
    {
        Assembly assembly;
        try { assembly = Assembly.Load(new AssemblyName(IlgpuAssemblyName)); }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException or PlatformNotSupportedException)
        {
            return; // not referenced (or a NativeAOT app, which carries only what it was compiled with)
        }
        RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
    }
}
