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
  // A dialog's close event comes a task after it closed, by when the app may have opened it again.
  // Each close() of ours is counted so that its event is not taken for the person closing it.
  const ownCloses = useRef(0);
  const closed = () => {
    if (ownCloses.current > 0) ownCloses.current--;
    else onClose();
  };
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) {
      ownCloses.current++;
      dialog.close();
    }
  }, [open]);
  return (
    <dialog ref={ref} id={id} aria-labelledby={titleId} onClose={closed}>
      {open ? children : null}
    </dialog>
  );
}
