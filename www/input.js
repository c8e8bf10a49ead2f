// File intake: the drop zone (a button that opens the file picker), a folder
// picker, and drops of files or folders anywhere on the page.

/**
 * Reads every entry of a directory. readEntries returns the entries in
 * batches (about 100 in Chromium), so it is called until a batch is empty.
 */
async function readDirectory(directory) {
  const reader = directory.createReader();
  const entries = [];
  for (;;) {
    const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return entries;
    entries.push(...batch);
  }
}

/** Collects the files under a FileSystemEntry, named by their path in the drop. */
async function collectEntry(entry, files, unreadable) {
  if (entry.isFile) {
    try {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      files.push({ file, name: entry.fullPath.replace(/^\//, '') });
    } catch (error) {
      unreadable.push({ name: entry.fullPath, message: error.message });
    }
    return;
  }
  if (entry.isDirectory) {
    try {
      for (const child of await readDirectory(entry)) await collectEntry(child, files, unreadable);
    } catch (error) {
      unreadable.push({ name: entry.fullPath, message: error.message });
    }
  }
}

/**
 * Returns the files of a drop as [{file, name}], walking dropped folders
 * where the browser offers webkitGetAsEntry, plus the entries it could not read.
 */
async function filesFromDrop(dataTransfer) {
  const files = [];
  const unreadable = [];
  const items = [...(dataTransfer.items ?? [])].filter((item) => item.kind === 'file');

  // Entries must be taken synchronously: the DataTransfer empties after the first await.
  const entries = items.map((item) => item.webkitGetAsEntry?.() ?? null);
  if (entries.length > 0 && entries.every(Boolean)) {
    for (const entry of entries) await collectEntry(entry, files, unreadable);
    return { files, unreadable };
  }
  for (const file of dataTransfer.files) files.push({ file, name: file.name });
  return { files, unreadable };
}

function filesFromInput(input) {
  const files = [...input.files].map((file) => ({ file, name: file.webkitRelativePath || file.name }));
  input.value = '';
  return { files, unreadable: [] };
}

/**
 * Wires the intake controls. `onFiles({files, unreadable})` receives each
 * batch of chosen or dropped files.
 */
export function setUpIntake({ dropZone, fileInput, folderButton, folderInput, onFiles }) {
  dropZone.addEventListener('click', () => fileInput.click());
  folderButton.addEventListener('click', () => folderInput.click());
  fileInput.addEventListener('change', () => onFiles(filesFromInput(fileInput)));
  folderInput.addEventListener('change', () => onFiles(filesFromInput(folderInput)));

  // Drops are accepted anywhere on the page except on the rule editor,
  // which takes rule files.
  let depth = 0;
  const isRuleTarget = (event) => event.target.closest?.('.add-rule');
  const carriesFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes('Files');

  document.addEventListener('dragenter', (event) => {
    if (!carriesFiles(event) || isRuleTarget(event)) return;
    depth += 1;
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', (event) => {
    if (!carriesFiles(event)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) document.body.classList.remove('dragging');
  });
  document.addEventListener('dragover', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
  });
  document.addEventListener('drop', async (event) => {
    depth = 0;
    document.body.classList.remove('dragging');
    if (!carriesFiles(event) || isRuleTarget(event)) return;
    event.preventDefault();
    onFiles(await filesFromDrop(event.dataTransfer));
  });
}
