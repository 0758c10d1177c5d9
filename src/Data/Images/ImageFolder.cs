namespace Engine.Data;

/// <summary>
/// A folder of images sorted into one subfolder per class, the layout of torchvision's
/// <c>ImageFolder</c> and Keras' <c>image_dataset_from_directory</c>, split into training,
/// validation and test files. <see cref="Scan"/> only lists files; <see cref="Load(ImageLoadOptions?)"/> decodes them.
/// </summary>
/// <remarks>
/// Two layouts are read:
/// <list type="bullet">
/// <item><c>DIR/&lt;class&gt;/…/*.{png,jpg,jpeg,bmp,gif}</c>: every class's images are shuffled with
/// the seed and split by <see cref="ImageFolderOptions.TestFraction"/> and
/// <see cref="ImageFolderOptions.ValidationFraction"/> (rounded per class, so each split has each
/// class in proportion, and every class keeps at least one training image).</item>
/// <item><c>DIR/train/&lt;class&gt;/…</c> with optional <c>DIR/val/</c> (or <c>valid/</c>,
/// <c>validation/</c>) and <c>DIR/test/</c> of the same classes; a split without its folder is
/// taken from the training images as above.</item>
/// </list>
/// Class names are the folder names in ordinal order; there must be at least two, and each must
/// hold an image. Files in nested folders belong to their class folder; hidden files and folders
/// (a leading dot, such as macOS's <c>._photo.jpg</c>) are left out, and so are files of other
/// extensions (listed in <see cref="Ignored"/>).
/// </remarks>
public sealed class ImageFolder
{
    private static readonly string[] s_validationNames = ["val", "valid", "validation"];

    private ImageFolder(string root, bool splitFolders, IReadOnlyList<string> classes, IReadOnlyList<ImageFile> train,
        IReadOnlyList<ImageFile> validation, IReadOnlyList<ImageFile> test, IReadOnlyList<string> ignored)
    {
        Root = root;
        HasSplitFolders = splitFolders;
        Classes = classes;
        Train = train;
        Validation = validation;
        Test = test;
        Ignored = ignored;
    }

    /// <summary>The folder.</summary>
    public string Root { get; }

    /// <summary>True for the <c>train/</c> (+ <c>val/</c>, <c>test/</c>) layout.</summary>
    public bool HasSplitFolders { get; }

    /// <summary>The class names, indexed by label.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>The training files.</summary>
    public IReadOnlyList<ImageFile> Train { get; }

    /// <summary>The validation files.</summary>
    public IReadOnlyList<ImageFile> Validation { get; }

    /// <summary>The test files.</summary>
    public IReadOnlyList<ImageFile> Test { get; }

    /// <summary>Files in class folders whose extension is not an image's.</summary>
    public IReadOnlyList<string> Ignored { get; }

    /// <summary>
    /// Lists and splits the images under <paramref name="root"/>. A folder that does not follow the
    /// layout is a <see cref="DataException"/> naming the folder and what is wrong.
    /// </summary>
    public static ImageFolder Scan(string root, ImageFolderOptions? options = null)
    {
        options ??= new ImageFolderOptions();
        if (!(options.ValidationFraction >= 0 && options.TestFraction >= 0 && options.ValidationFraction + options.TestFraction < 1))
            throw new DataException($"ImageFolder: validation fraction {options.ValidationFraction} and test fraction {options.TestFraction}: each must be at least 0 and together below 1");
        if (!Directory.Exists(root)) throw new DataException($"{root}: no such folder");
        var ignored = new List<string>();
        string? trainDir = Subfolder(root, "train");
        if (trainDir is null)
        {
            var (classes, byClass) = ReadClasses(root, root, null, ignored);
            var (train, validation, test) = Split(byClass, options, carveValidation: true, carveTest: true);
            return new ImageFolder(root, false, classes, train, validation, test, ignored);
        }
        var (names, trainFiles) = ReadClasses(trainDir, root, null, ignored);
        string? valDir = s_validationNames.Select(n => Subfolder(root, n)).FirstOrDefault(d => d is not null);
        string? testDir = Subfolder(root, "test");
        var (fit, carvedVal, carvedTest) = Split(trainFiles, options, carveValidation: valDir is null, carveTest: testDir is null);
        var val = valDir is null ? carvedVal : Flatten(ReadClasses(valDir, root, names, ignored).Files);
        var tst = testDir is null ? carvedTest : Flatten(ReadClasses(testDir, root, names, ignored).Files);
        return new ImageFolder(root, true, names, fit, val, tst, ignored);
    }

    /// <summary>
    /// Decodes every split's images once (in parallel, see <see cref="ImageDataset.Load"/>) and
    /// returns them as datasets; the caller disposes the result.
    /// </summary>
    public ImageFolderData Load(ImageLoadOptions? options = null)
    {
        List<ImageFile> all = [.. Train, .. Validation, .. Test];
        var images = ImageDataset.Load(all, options ?? new ImageLoadOptions());
        try
        {
            // the dataset's samples are the files that decoded, in order; find each split's among them
            var position = new Dictionary<int, int>();
            for (int k = 0; k < images.Sources.Count; k++) position[images.Sources[k]] = k;
            Subset Part(int from, int count) => new(images, [.. Enumerable.Range(from, count).Where(position.ContainsKey).Select(i => position[i])]);
            return new ImageFolderData(this, images, Part(0, Train.Count), Part(Train.Count, Validation.Count), Part(Train.Count + Validation.Count, Test.Count));
        }
        catch
        {
            images.Dispose();
            throw;
        }
    }

    /// <summary>Scans <paramref name="root"/> and decodes it: <see cref="Scan"/> then <see cref="Load(ImageLoadOptions?)"/>.</summary>
    public static ImageFolderData Load(string root, ImageFolderOptions? split = null, ImageLoadOptions? load = null) =>
        Scan(root, split).Load(load);

    /// <summary>The subfolder of <paramref name="dir"/> called <paramref name="name"/> (any case), if there is one.</summary>
    private static string? Subfolder(string dir, string name) =>
        Directory.EnumerateDirectories(dir).FirstOrDefault(d => string.Equals(Path.GetFileName(d), name, StringComparison.OrdinalIgnoreCase));

    private static readonly EnumerationOptions s_walk = new()
    {
        RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System,
    };

    /// <summary>
    /// The class folders of <paramref name="dir"/> and their image files; with <paramref name="known"/>,
    /// a split folder whose classes must be among the training classes.
    /// </summary>
    private static (List<string> Classes, List<List<ImageFile>> Files) ReadClasses(string dir, string root, IReadOnlyList<string>? known, List<string> ignored)
    {
        var folders = Directory.EnumerateDirectories(dir).Where(d => !Path.GetFileName(d).StartsWith('.'))
            .OrderBy(d => Path.GetFileName(d), StringComparer.Ordinal).ToList();
        var names = folders.Select(Path.GetFileName).Select(n => n!).ToList();
        if (known is null)
        {
            if (folders.Count < 2)
            {
                int loose = Directory.EnumerateFiles(dir).Count(ImageDecoder.HasImageExtension);
                throw new DataException(folders.Count == 0
                    ? $"{dir}: no class folders: an image folder holds one subfolder per class (DIR/<class>/*.jpg, or DIR/train/<class>/…)" +
                      (loose > 0 ? $"; the {loose} images directly in {dir} belong to no class" : "")
                    : $"{dir}: only one class folder ({names[0]}): classification needs at least 2 classes, one subfolder each");
            }
        }
        else
        {
            foreach (var n in names)
                if (!known.Contains(n))
                    throw new DataException($"{Path.Combine(dir, n)}: class '{n}' has no training folder; the classes are those of the train folder: {string.Join(", ", known)}");
        }
        var files = new List<List<ImageFile>>();
        if (known is not null) for (int c = 0; c < known.Count; c++) files.Add([]);
        for (int i = 0; i < folders.Count; i++)
        {
            int label = known is null ? i : IndexOf(known, names[i]);
            var images = new List<ImageFile>();
            foreach (var f in Files(folders[i]))
                if (ImageDecoder.HasImageExtension(f)) images.Add(new ImageFile(f, label));
                else ignored.Add(f);
            if (images.Count == 0 && known is null)
                throw new DataException($"{folders[i]}: class '{names[i]}' holds no images ({string.Join(", ", ImageDecoder.Extensions)}); " +
                                        "every class folder needs at least one (remove the folder to drop the class)");
            if (known is null) files.Add(images);
            else files[label].AddRange(images);
        }
        return (known is null ? names : [.. known], files);
    }

    private static int IndexOf(IReadOnlyList<string> list, string item)
    {
        for (int i = 0; i < list.Count; i++) if (list[i] == item) return i;
        return -1;
    }

    /// <summary>
    /// The files under <paramref name="dir"/>, in nested folders too, in ordinal order, without hidden
    /// ones (a leading dot in the file's or a folder's name, or the hidden attribute).
    /// </summary>
    public static IReadOnlyList<string> Files(string dir) =>
        [.. Directory.EnumerateFiles(dir, "*", s_walk)
            .Where(f => !Path.GetRelativePath(dir, f).Split(Path.DirectorySeparatorChar).Any(part => part.StartsWith('.')))
            .Order(StringComparer.Ordinal)];

    private static List<ImageFile> Flatten(List<List<ImageFile>> byClass) => [.. byClass.SelectMany(f => f)];

    /// <summary>Each class's files shuffled with the seed, then cut into test, validation and training files.</summary>
    private static (List<ImageFile> Train, List<ImageFile> Validation, List<ImageFile> Test) Split(
        List<List<ImageFile>> byClass, ImageFolderOptions o, bool carveValidation, bool carveTest)
    {
        List<ImageFile> train = [], validation = [], test = [];
        for (int c = 0; c < byClass.Count; c++)
        {
            var files = byClass[c];
            int n = files.Count;
            int nTest = carveTest ? (int)Math.Round(n * o.TestFraction, MidpointRounding.AwayFromZero) : 0;
            int nVal = carveValidation ? (int)Math.Round(n * o.ValidationFraction, MidpointRounding.AwayFromZero) : 0;
            while (nTest + nVal >= n && nTest + nVal > 0)
                if (nVal >= nTest && nVal > 0) nVal--; else nTest--;
            var order = n == 0 ? [] : Seeds.Permutation(n, Seeds.Mix(o.Seed, (ulong)c));
            for (int k = 0; k < n; k++)
                (k < nTest ? test : k < nTest + nVal ? validation : train).Add(files[order[k]]);
        }
        return (train, validation, test);
    }
}
