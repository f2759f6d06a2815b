// 常用审批意见: a click on a saved phrase puts it into the task form's opinion field (web/templates/_task_actions.html).
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-phrase]");
  if (!button) return;
  const field = document.querySelector("textarea[name=opinion]");
  if (!field) return;
  field.value = field.value ? `${field.value}\n${button.dataset.phrase}` : button.dataset.phrase;
  field.focus();
});
