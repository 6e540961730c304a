'use strict';
// Names for the controls that the Django admin's own scripts build without one (found by the
// axe-core browser test, tests/e2e/test_accessibility.py). Every page of both admin sites loads
// this file (templates/admin/base_site.html). The widgets are built on DOMContentLoaded, on
// load and when an inline row is added, so an observer names them whenever they appear.
{
    // The autocomplete widget (select2) hides the real <select> and shows a combobox named only
    // by the current choice, so an empty one has no name at all: name it by the field's label
    // and then the choice, as a screen reader would read a native <select>.
    const nameAutocompletes = (root) => {
        root.querySelectorAll('select.admin-autocomplete').forEach((select) => {
            const container = select.nextElementSibling;
            const label = select.id && document.querySelector(`label[for="${select.id}"]`);
            if (!container || !label || !container.classList.contains('select2')) {
                return;
            }
            label.id = label.id || `${select.id}_label`;
            const combobox = container.querySelector('.select2-selection[role="combobox"]');
            const rendered = container.querySelector('.select2-selection__rendered');
            if (combobox && rendered && rendered.id) {
                combobox.setAttribute('aria-labelledby', `${label.id} ${rendered.id}`);
            }
            if (rendered && rendered.getAttribute('role') === 'textbox') {
                rendered.setAttribute('aria-labelledby', label.id);
            }
        });
    };

    // The two-list widget (filter_horizontal) puts an aria-label on a plain <span> icon inside
    // the filter box's label, which ARIA does not allow: as an image it may carry the name.
    const nameFilterIcons = (root) => {
        root.querySelectorAll('.search-label-icon[aria-label]:not([role])').forEach((icon) => {
            icon.setAttribute('role', 'img');
        });
    };

    // django-import-export's export form labels its "Select all" box with for="select-all-toggle"
    // but gives the box no id.
    const nameExportToggles = (root) => {
        root.querySelectorAll('input.select-toggle:not([id])').forEach((toggle, index) => {
            const label = toggle.parentElement.querySelector('label[for="select-all-toggle"]');
            if (label) {
                toggle.id = `select-all-toggle-${index}`;
                label.htmlFor = toggle.id;
            }
        });
    };

    const nameAll = () => {
        nameAutocompletes(document);
        nameFilterIcons(document);
        nameExportToggles(document);
    };

    let queued = false;
    new MutationObserver(() => {
        if (!queued) {
            queued = true;
            queueMicrotask(() => {
                queued = false;
                nameAll();
            });
        }
    }).observe(document.documentElement, {childList: true, subtree: true});
    document.addEventListener('DOMContentLoaded', nameAll);
}
