import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

interface ModalProps {
  open: boolean;
  onClose: () => void;
  titleId: string;
  id?: string;
  children: ComponentChildren;
}

/** A native modal <dialog>: focus moves into it and back, Esc closes it, the page behind is inert. */
export function Modal({ open, onClose, titleId, id, children }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} id={id} aria-labelledby={titleId} onClose={onClose}>
      {open ? children : null}
    </dialog>
  );
}
